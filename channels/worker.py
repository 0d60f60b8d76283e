"""The channel worker: notify jobs from the NOTIFY work queue, delivered.

A job is split into steps by the person's notification rules, one per
contact method, each published back to the queue with its due time; a step
not yet due is handed back to JetStream with a delay (`nak(delay)`), so the
worker holds no state and any number of workers share the queue.

Delivering a step is at most once per contact method. Before each attempt
the worker writes the step's key to the `NOTIFY_SENT` key-value bucket as
`sending`, and afterwards `failed` or `delivered`; the writes compare the
revision, so two workers never both send. A step redelivered after a worker
was killed finds its key: `delivered` is not sent again, `failed` goes on
with the next attempt, and `sending` (killed mid-send, the provider may have
rung the phone) is recorded as failed with an unknown outcome rather than
risk a second call. A delayed step whose incident is no longer triggered is
dropped: acknowledging cancels every pending step.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import msgspec
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from bus import wire
from bus.client import EngineClient
from bus.consumer import PullConsumer
from channels import buckets
from channels.bundle import BUCKET as BUNDLE_BUCKET
from channels.bundle import BUCKET_TTL as BUNDLE_TTL
from channels.bundle import MAX_LISTED, Bundles
from channels.contacts import Book, Method, redact
from channels.page import DeliveryFailed, Page
from channels.throttle import BUCKET as THROTTLE_BUCKET
from channels.throttle import BUCKET_TTL as THROTTLE_TTL
from channels.throttle import Throttles

log = logging.getLogger(__name__)

STREAM = "NOTIFY"
BUCKET = "NOTIFY_SENT"
BUCKET_TTL = 7 * 24 * 3600.0  # as long as the NOTIFY stream keeps a job
JOBS_CONSUMER = "channels-jobs"
STEPS_CONSUMER = "channels-steps"
ACK_WAIT = 60.0  # seconds; longer than the slowest send (apprise's 30 s bound)
IN_FLIGHT = 64  # deliveries at once per worker
CANCEL_QUERY_TIMEOUT = 2.0  # seconds to ask the engine whether a page still matters
ROOM = "room"  # the method name of a team's chat room


class Sender(Protocol):
    """A delivery method: `kind` is apprise, sms or voice."""

    kind: str

    async def send(self, method: Method, page: Page) -> str: ...


@dataclass(frozen=True)
class Retry:
    """Attempts per step and the backoff between them: 2+4+8+16+30 s by default."""

    attempts: int = 6
    first: float = 2.0
    factor: float = 2.0
    cap: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (from 1)."""
        return min(self.cap, self.first * self.factor ** (attempt - 1))


def utcnow() -> datetime:
    return datetime.now(UTC)


class Worker:
    """Pulls notify jobs and steps, delivers them, publishes the results."""

    def __init__(
        self,
        nc: Client,
        js: JetStreamContext,
        book: Book,
        senders: dict[str, Sender],
        retry: Retry = Retry(),
        ack_wait: float = ACK_WAIT,
    ) -> None:
        self.nc = nc
        self.js = js
        self.book = book
        self.senders = senders
        self.retry = retry
        self.ack_wait = ack_wait
        self.engine = EngineClient(nc, timeout=CANCEL_QUERY_TIMEOUT)
        self.kv = None
        self.throttles: Throttles | None = None
        self.bundles: Bundles | None = None
        self._secrets = book.secrets()
        self._slots = asyncio.Semaphore(IN_FLIGHT)
        self._consumers: list[PullConsumer] = []
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Open the bucket and the two durable consumers, and start pulling."""
        self.kv = await buckets.bucket(self.js, BUCKET, BUCKET_TTL)
        self.throttles = Throttles(
            await buckets.bucket(self.js, THROTTLE_BUCKET, THROTTLE_TTL)
        )
        self.bundles = Bundles(
            await buckets.bucket(self.js, BUNDLE_BUCKET, BUNDLE_TTL),
            self.book.bundle_window,
        )
        for name, subject, handle in (
            (JOBS_CONSUMER, wire.SUBJECT_NOTIFY_JOBS, self._on_job),
            (STEPS_CONSUMER, wire.SUBJECT_NOTIFY_STEPS, self._on_step),
        ):
            await self.js.add_consumer(
                STREAM,
                ConsumerConfig(
                    durable_name=name,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self.ack_wait,
                    max_ack_pending=10_000,
                    filter_subject=subject,
                ),
            )
            consumer = PullConsumer(self.nc, STREAM, name, batch=IN_FLIGHT)
            await consumer.start()
            self._consumers.append(consumer)
            self._spawn(self._pull(consumer, handle), f"worker-{name}")
        log.info("channel worker started methods=%s", ",".join(sorted(self.senders)))

    async def stop(self) -> None:
        """Stop pulling; deliveries in flight are cut and redelivered later."""
        for consumer in self._consumers:
            await consumer.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5.0)
        self._consumers.clear()

    def _spawn(self, coro, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pull(self, consumer: PullConsumer, handle) -> None:
        while True:
            for msg in await consumer.take():
                await self._slots.acquire()
                self._spawn(self._guarded(handle, msg), "worker-delivery")

    async def _guarded(self, handle, msg) -> None:
        # The boundary of one message: a bug must not stop the worker, and an
        # unacknowledged message comes back after ack_wait.
        heartbeat = asyncio.create_task(self._keep_alive(msg))
        try:
            await handle(msg)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notify message failed subject=%s", msg.subject)
        finally:
            heartbeat.cancel()
            self._slots.release()

    async def _keep_alive(self, msg) -> None:
        """Tell JetStream a long delivery (retries, backoff) is still going."""
        while True:
            await asyncio.sleep(self.ack_wait / 3)
            with contextlib.suppress(Exception):
                await msg.in_progress()

    # ------------------------------------------------------------ jobs

    async def _on_job(self, msg) -> None:
        """Split a job into its steps by the person's rules, then acknowledge."""
        try:
            job = wire.notify_job_decoder.decode(msg.data)
        except msgspec.DecodeError as err:
            log.error("undecodable notify job dropped error=%s", err)
            await msg.term()
            return
        steps, problem = self.plan(job)
        if problem:
            log.error(
                "notify job cannot be delivered key=%s reason=%s", job.key, problem
            )
            await self._publish(self._result(job, "-", "-", "failed", 0, problem))
        for step in steps:
            await self.js.publish(
                wire.SUBJECT_NOTIFY_STEPS,
                wire.encode(step),
                headers={"Nats-Msg-Id": step.key},
            )
        await msg.ack()

    def plan(self, job: wire.NotifyJob) -> tuple[list[wire.NotifyStep], str | None]:
        """The steps of a job, or none and the reason nobody can be reached."""
        if job.user is None:
            if job.team not in self.book.rooms:
                return [], f"team {job.team} has no chat room"
            return [self._step(job, ROOM, 0.0)], None
        person = self.book.people.get(job.user)
        if person is None or not person.methods:
            return [], f"user {job.user} has no contact methods"
        rules = person.rules_for(job.urgency)
        start = job.at
        if job.urgency == "low" and person.quiet is not None:
            start = person.quiet.release(job.at) or job.at  # see channels.quiet
        return [self._step(job, r.method, r.delay, start) for r in rules], None

    def _step(
        self, job: wire.NotifyJob, method: str, delay: float, start=None
    ) -> wire.NotifyStep:
        return wire.NotifyStep(
            key=f"{job.key}.{method}",
            job=job,
            method=method,
            due=(start or job.at) + timedelta(seconds=delay),
        )

    # ------------------------------------------------------------ steps

    async def _on_step(self, msg) -> None:
        """Deliver a due step; hand back one not yet due; drop a cancelled one."""
        try:
            step = wire.notify_step_decoder.decode(msg.data)
        except msgspec.DecodeError as err:
            log.error("undecodable notify step dropped error=%s", err)
            await msg.term()
            return
        wait = (step.due - utcnow()).total_seconds()
        if wait > 0.01:
            await msg.nak(delay=wait)
            return
        if step.due > step.job.at and await self._answered(step.job.incident):
            log.debug("notify step cancelled key=%s", step.key)
            await msg.ack()
            return
        later = await self.deliver(step)
        if later:
            await msg.nak(delay=later)  # it carries a bundle: back when it closes
            return
        await msg.ack()

    async def _answered(self, incident: int) -> bool:
        """Whether the incident is acknowledged or resolved; unsure: not."""
        try:
            detail = await self.engine.incident(incident)
        except Exception as err:  # the engine is away: page rather than not
            log.warning("cannot ask the engine incident=%d error=%s", incident, err)
            return False
        return detail.incident.state != "triggered"

    async def deliver(self, step: wire.NotifyStep) -> float | None:
        """Deliver one step at most once, with bounded retries, and report it.

        A step that carries a bundle still open returns the seconds until it
        closes; every other returns None, done.
        """
        method = self._method(step)
        if method is None or method.kind not in self.senders:
            why = (
                f"no contact method {step.method!r}"
                if method is None
                else (f"no {method.kind} delivery configured")
            )
            await self._publish(
                self._result(step.job, step.method, "-", "failed", 0, why)
            )
            return None
        claimed = await self._claim(step, method)
        if claimed is None:
            return None
        attempt, revision = claimed
        page, folded = Page.of(step.job), ()
        if attempt == 1 and self.bundles.window > 0 and step.job.user is not None:
            decision = await self.bundles.join(
                f"{step.job.user}.{method.name}",
                _listing(step, len({s.key for s in self.plan(step.job)[0]})),
                utcnow().timestamp(),
            )
            if decision.action == "wait":
                return max(decision.until - utcnow().timestamp(), 0.01)
            if decision.action in ("folded", "counted"):
                await self.kv.update(step.key, _mark("bundled", 0), last=revision)
                if decision.action == "counted":
                    await self._report_counted(step, method)
                return None
            if decision.action == "carry":
                page, folded = await self._bundle(decision.pages)
        outcome = None
        if attempt == 1:
            outcome = await self._throttled(step, method, revision)
        if outcome is None:
            outcome = await self._attempts(step, method, attempt, revision, page)
        await self._report_folded(step, method, folded, outcome)
        return None

    async def _bundle(self, pages: tuple[dict, ...]) -> tuple[Page, list[dict]]:
        """The carrier's page listing every folded page still triggered."""
        carrier, *others = pages
        waiting = [p for p in others if not await self._answered(p["incident"])]
        listed = [Page.of_listing(p) for p in (carrier, *waiting)]
        return Page.bundle(listed), waiting

    async def _report_counted(self, step: wire.NotifyStep, method: Method) -> None:
        """A page past a full bundle's list: bundled, recorded at once."""
        listing = _listing(step, len({s.key for s in self.plan(step.job)[0]}))
        why = f"joined a full {method.name} bundle (more than {MAX_LISTED} pages)"
        await self._publish(
            wire.NotifyResult(
                key=listing["key"], incident=listing["incident"],
                user=step.job.user, channel=method.kind, method=method.name,
                result="bundled", attempt=0, at=utcnow(), reason=why,
                job=listing.get("job", ""), level=listing.get("level", 0),
                repeat=listing.get("repeat", 0), steps=listing.get("steps", 1),
            )
        )  # fmt: skip

    async def _report_folded(self, step, method, folded, outcome) -> None:
        """Each folded page's result: `bundled`, or the carrier's failure."""
        result, reason = outcome
        where = f"listed in the {method.name} page of incident {step.job.incident}"
        for listing in folded:
            await self._publish(
                wire.NotifyResult(
                    key=listing["key"], incident=listing["incident"],
                    user=step.job.user, channel=method.kind, method=method.name,
                    result="bundled" if result == "delivered" else result,
                    attempt=0, at=utcnow(),
                    reason=where if result == "delivered" else f"{where}: {reason}",
                    job=listing.get("job", ""), level=listing.get("level", 0),
                    repeat=listing.get("repeat", 0), steps=listing.get("steps", 1),
                )
            )  # fmt: skip

    async def _throttled(self, step: wire.NotifyStep, method: Method, revision):
        """(`throttled`, why) when the method is throttled: recorded, not sent."""
        if method.throttle is None or step.job.user is None:
            return None
        why = await self.throttles.take(
            f"{step.job.user}.{method.name}", method.kind, method.throttle,
            utcnow().timestamp(),
        )  # fmt: skip
        if why is None:
            return None
        await self.kv.update(step.key, _mark("throttled", 0), last=revision)
        log.info("page throttled key=%s channel=%s", step.key, method.kind)
        await self._publish(
            self._result(step.job, step.method, method.kind, "throttled", 0, why)
        )
        return "throttled", why

    def _method(self, step: wire.NotifyStep) -> Method | None:
        job = step.job
        if job.user is None:
            return self.book.rooms.get(job.team or "")
        person = self.book.people.get(job.user)
        return person.methods.get(step.method) if person else None

    async def _claim(self, step: wire.NotifyStep, method: Method):
        """(first attempt, revision) to go on with, or None when done before."""
        try:
            entry = await self.kv.get(step.key)
        except KeyNotFoundError:
            try:
                return 1, await self.kv.create(step.key, _mark("new", 0))
            except KeyWrongLastSequenceError:
                return None  # another worker took it this instant
        mark = json.loads(entry.value)
        if mark["state"] in ("new", "failed"):  # nothing is out: go on
            return mark["attempt"] + 1, entry.revision
        if mark["state"] == "sending":
            # Killed mid-send: the provider may have placed the call already.
            reason = "outcome unknown: a worker stopped while sending; not resent"
            log.error("notify step not resent key=%s reason=%s", step.key, reason)
            await self._publish(
                self._result(step.job, step.method, method.kind, "failed",
                        mark["attempt"], reason)
            )  # fmt: skip
            with contextlib.suppress(KeyWrongLastSequenceError):
                await self.kv.update(
                    step.key, _mark("unknown", mark["attempt"]), last=entry.revision
                )
        return None

    async def _attempts(self, step, method: Method, attempt, revision, page: Page):
        """Send until delivered or the bound; the last (result, reason)."""
        sender = self.senders[method.kind]
        last_reason = None
        while attempt <= self.retry.attempts:
            revision = await self.kv.update(
                step.key, _mark("sending", attempt), last=revision
            )
            try:
                await sender.send(method, page)
            except Exception as err:
                failure = _as_failure(err, self._secrets)
                final = not failure.retryable or attempt >= self.retry.attempts
                revision = await self.kv.update(
                    step.key, _mark("failed", attempt), last=revision
                )
                self._log_failure(step, attempt, failure, final, last_reason)
                last_reason = failure.reason
                await self._publish(
                    self._result(step.job, step.method, method.kind, "failed",
                            attempt, failure.reason, final)
                )  # fmt: skip
                if final:
                    return "failed", failure.reason
                await asyncio.sleep(self.retry.backoff(attempt))
                attempt += 1
                continue
            await self.kv.update(step.key, _mark("delivered", attempt), last=revision)
            level = logging.INFO if attempt > 1 else logging.DEBUG
            log.log(level, "page delivered key=%s channel=%s attempt=%d",
                    step.key, method.kind, attempt)  # fmt: skip
            await self._publish(
                self._result(step.job, step.method, method.kind, "delivered", attempt)
            )
            return "delivered", ""
        return "failed", last_reason or "no attempt left"

    def _log_failure(self, step, attempt, failure, final, last_reason) -> None:
        if final:
            log.error(
                "page given up key=%s attempt=%d reason=%s",
                step.key, attempt, failure.reason,
            )  # fmt: skip
        elif failure.reason != last_reason:
            log.warning(
                "page attempt failed key=%s attempt=%d reason=%s",
                step.key, attempt, failure.reason,
            )  # fmt: skip

    def _result(self, job: wire.NotifyJob, *args, **kwargs) -> wire.NotifyResult:
        """A result of `job`, naming how many methods its plan has."""
        return _result(
            job, *args, **kwargs, steps=max(1, len({s.key for s in self.plan(job)[0]}))
        )

    async def _publish(self, result: wire.NotifyResult) -> None:
        await self.js.publish(
            wire.SUBJECT_NOTIFY_RESULTS,
            wire.encode(result),
            headers={"Nats-Msg-Id": f"{result.key}.{result.attempt}.{result.result}"},
        )


def _mark(state: str, attempt: int) -> bytes:
    return json.dumps({"state": state, "attempt": attempt}).encode()


def _as_failure(err: Exception, secrets: list[str]) -> DeliveryFailed:
    if isinstance(err, DeliveryFailed):
        return err
    # A sender's bug: retried like an outage, its text redacted all the same.
    return DeliveryFailed(redact(f"{type(err).__name__}: {err}", secrets))


def _listing(step: wire.NotifyStep, steps: int) -> dict:
    """What a bundle keeps of a page: enough to list it and report it."""
    job = step.job
    return {
        "key": step.key, "incident": job.incident, "title": job.title,
        "severity": job.severity, "service": job.service, "job": job.key,
        "level": job.level, "repeat": job.repeat, "steps": steps,
    }  # fmt: skip


def _result(
    job: wire.NotifyJob,
    method: str,
    channel: str,
    result: str,
    attempt: int,
    reason: str = "",
    final: bool = True,
    steps: int = 1,
) -> wire.NotifyResult:
    return wire.NotifyResult(
        key=f"{job.key}.{method}",
        incident=job.incident,
        user=job.user,
        channel=channel,
        method=method,
        result=result,  # type: ignore[arg-type]
        attempt=attempt,
        at=utcnow(),
        reason=reason,
        final=final,
        job=job.key,
        level=job.level,
        repeat=job.repeat,
        steps=steps,
    )
