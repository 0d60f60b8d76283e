"""Each team's chat room told the incident's life, one short message per step.

A durable consumer of the EVENTS stream (`channels-room`) follows every
incident's timeline and posts `opened`, `reopened`, `acknowledged`,
`escalated` and `resolved` to the team's `chat_room` through apprise, so
the room stays the place to talk while warroom holds the state. The
consumer is created to deliver only new events and each event is
acknowledged after its post, so a restart neither loses nor floods the
room. `escalation_exhausted` is not posted here: the engine already sends
the room a page for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import apprise as apprise_lib
import msgspec
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from bus import wire
from bus.consumer import PullConsumer
from channels.apprise import TIMEOUT
from channels.contacts import Book, Method, redact
from channels.page import DeliveryFailed
from channels.worker import Retry

log = logging.getLogger(__name__)

STREAM = "EVENTS"
CONSUMER = "channels-room"
ACK_WAIT = 60.0  # seconds; longer than one post (apprise's 30 s bound)
RETRY = Retry(attempts=4, first=1.0, cap=8.0)  # 1+2+4 s, then the event is let go


def message_of(event: wire.Event) -> str | None:
    """The room's line for one event, or None when the room is not told."""
    incident = event.incident
    number = f"#{event.incident_id}"
    match event.type:
        case "opened" | "reopened" if incident is not None:
            return f"{number} {event.type}: {_headline(incident)}"
        case "acknowledged":
            return f"{number} acknowledged by {event.actor}"
        case "escalated":
            people = [p["user"] for p in event.data.get("people", [])]
            level = event.data.get("level", "?")
            return f"{number} escalated to level {level}: {_names(people)}"
        case "resolved":
            reason = event.data.get("close_reason") or "-"
            if event.actor == "auto":
                return f"{number} resolved ({reason}): every alert recovered"
            return f"{number} resolved ({reason}) by {event.actor}"
    return None


def _headline(incident: wire.IncidentSummary) -> str:
    about = " ".join(p for p in (incident.severity, incident.service) if p)
    return f"{about} — {incident.title}"


def _names(people: list[str]) -> str:
    return ", ".join(people) if people else "nobody, skipped"


def post(room: Method, text: str) -> None:
    """Post `text` to the room through apprise; raise `DeliveryFailed`.

    Blocking (apprise is): call it in a thread.
    """
    notifier = apprise_lib.Apprise()
    if not notifier.add(room.address):
        raise DeliveryFailed("apprise cannot load this URL", retryable=False)
    if not notifier.notify(body=text, timeout=TIMEOUT):
        raise DeliveryFailed("apprise did not deliver the message")


class RoomFollower:
    """Follows the EVENTS stream and tells each team's room what happened."""

    def __init__(
        self, nc: Client, js: JetStreamContext, book: Book, retry: Retry = RETRY
    ) -> None:
        self.nc = nc
        self.js = js
        self.book = book
        self.retry = retry
        self._secrets = book.secrets()
        self._consumer: PullConsumer | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Open the durable consumer (new events only, the first time) and follow."""
        await self._ensure_consumer()
        self._consumer = PullConsumer(self.nc, STREAM, CONSUMER, batch=1)
        await self._consumer.start()
        self._task = asyncio.create_task(self._follow(), name="room-follower")
        log.info("room follower started rooms=%d", len(self.book.rooms))

    async def stop(self) -> None:
        """Stop following; an event being posted comes back after ACK_WAIT."""
        if self._consumer is not None:
            await self._consumer.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        log.debug("room follower stopped")

    async def _ensure_consumer(self) -> None:
        try:
            await self.js.consumer_info(STREAM, CONSUMER)
            return  # it keeps its place: events while we were away still come
        except NotFoundError:
            pass
        # One event in flight across every follower (up and each worker
        # share the consumer), so a room reads the steps in their order.
        await self.js.add_consumer(
            STREAM,
            ConsumerConfig(
                durable_name=CONSUMER,
                deliver_policy=DeliverPolicy.NEW,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=ACK_WAIT,
                max_ack_pending=1,
                filter_subject=f"{wire.SUBJECT_EVENTS}.>",
            ),
        )

    async def _follow(self) -> None:
        while True:
            for msg in await self._consumer.take():
                try:
                    await self._on_event(msg)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the boundary: a bug must not stop the room
                    log.exception("room event failed subject=%s", msg.subject)

    async def _on_event(self, msg) -> None:
        try:
            event = wire.event_decoder.decode(msg.data)
        except msgspec.DecodeError as err:
            log.error("undecodable event dropped error=%s", err)
            await msg.term()
            return
        text = message_of(event)
        team = event.incident.team if event.incident else None
        room = self.book.rooms.get(team or "")
        if text is not None and room is not None:
            await self.tell(msg, room, text, team, event)
        await msg.ack()

    async def tell(self, msg, room: Method, text: str, team: str, event) -> None:
        """Post with bounded retries; on giving up, log it and go on."""
        for attempt in range(1, self.retry.attempts + 1):
            with contextlib.suppress(Exception):
                await msg.in_progress()  # a slow post must not be redelivered
            try:
                await asyncio.to_thread(post, room, text)
            except Exception as err:
                reason = redact(str(err) or type(err).__name__, self._secrets)
                final = attempt == self.retry.attempts or (
                    isinstance(err, DeliveryFailed) and not err.retryable
                )
                self._log_failure(event, team, attempt, reason, final)
                if final:
                    return
                await asyncio.sleep(self.retry.backoff(attempt))
                continue
            level = logging.INFO if attempt > 1 else logging.DEBUG
            log.log(level, "room told incident=%d team=%s type=%s attempt=%d",
                    event.incident_id, team, event.type, attempt)  # fmt: skip
            return

    def _log_failure(self, event, team, attempt, reason, final) -> None:
        if final:
            log.error(
                "room message given up incident=%d team=%s type=%s attempt=%d "
                "reason=%s", event.incident_id, team, event.type, attempt, reason,
            )  # fmt: skip
        elif attempt == 1:
            log.warning(
                "room message failed incident=%d team=%s type=%s reason=%s",
                event.incident_id, team, event.type, reason,
            )  # fmt: skip
