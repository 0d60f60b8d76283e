"""Escalation in the engine's shell: stored timers, fired on time, notify jobs.

The store holds every escalation timer; the engine keeps them in memory with
a heap of due times, rebuilt from the store at start, and one task sleeps
until the soonest is due (asyncio's timer: about a millisecond late, against
GoAlert's 5-second engine cycle). Firing takes the writer lock, runs the
core, and commits the step's events, timers and notify jobs in one
transaction. Notify jobs then leave from an outbox table, so a crash between
commit and publish re-sends them under the same idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bus import wire
from engine.core import escalation as esc
from engine.core import incident as core
from engine.core.escalation import Steps, Timer, TimerKey
from engine.core.model import Effects, Incident
from engine.core.schedule import (
    Override,
    final_shifts,
    next_shift,
    on_call,
)
from engine.directory import directory_of
from store.db import Changes

if TYPE_CHECKING:
    from engine.service import Engine

log = logging.getLogger(__name__)

MAX_WAIT = 30.0  # seconds a timer task sleeps without news: a bound, not a tick
MAX_OVERRIDE = timedelta(days=90)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimerQueue:
    """Timers by key, with a heap of due times that skips replaced entries."""

    def __init__(self) -> None:
        self.timers: dict[TimerKey, Timer] = {}
        self._heap: list[tuple[datetime, int, str]] = []

    def put(self, timer: Timer) -> None:
        self.timers[timer.key] = timer
        if timer.due is not None:
            heapq.heappush(self._heap, (timer.due, timer.incident_id, timer.kind))

    def drop(self, key: TimerKey) -> None:
        self.timers.pop(key, None)

    def soonest(self) -> datetime | None:
        """The earliest due time of a live timer, dropping stale heap entries."""
        while self._heap:
            due, incident_id, kind = self._heap[0]
            timer = self.timers.get((incident_id, kind))
            if timer is not None and timer.due == due:
                return due
            heapq.heappop(self._heap)
        return None

    def due(self, now: datetime) -> list[Timer]:
        """Live timers due at `now`, in due order, taken off the heap."""
        found = []
        while (soonest := self.soonest()) is not None and soonest <= now:
            _, incident_id, kind = heapq.heappop(self._heap)
            found.append(self.timers[(incident_id, kind)])
        return found


class Escalator:
    """The engine's escalation: timers, overrides, notify jobs and queries."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.queue = TimerQueue()
        self.overrides: dict[int, Override] = {}
        self.directory = directory_of(engine.config)
        self.lateness: deque[float] = deque(maxlen=100_000)  # seconds, for bench
        self._wake = asyncio.Event()
        self._jobs_ready = asyncio.Event()
        self._next_override = 1

    # ------------------------------------------------------------ lifecycle

    async def load(self) -> None:
        """Rebuild timers and overrides from the store."""
        store = self.engine.store
        self.queue = TimerQueue()
        for row in await store.escalation_timers():
            self.queue.put(_timer_of(row))
        self.overrides = {
            row["id"]: _override_of(row) for row in await store.overrides()
        }
        self._next_override = max(self.overrides, default=0) + 1
        self._refresh()
        self._wake.set()
        self._jobs_ready.set()

    def _refresh(self) -> None:
        self.directory = directory_of(self.engine.config, self.overrides.values())

    def tasks(self) -> list[asyncio.Task]:
        return [
            asyncio.create_task(self._run(), name="engine-escalation"),
            asyncio.create_task(self._publish_jobs(), name="engine-notify"),
        ]

    # ------------------------------------------------------------ core inputs

    def follow(self, effects: Effects, steps: Steps | None = None) -> Steps:
        """Escalation's part of any commit: pages start a climb, resolves end it."""
        steps = steps if steps is not None else Steps(effects=effects)
        state = self.engine.state
        for page in effects.pages:
            incident = state.incidents.get(page.incident_id)
            if incident is not None:
                esc.page(
                    state, incident, page.reason, self.directory,
                    self.queue.timers, page.at, steps,
                )  # fmt: skip
        for incident in list(effects.incidents.values()):
            if not incident.is_open:
                esc.resolved(incident, self.queue.timers, steps)
        return steps

    def after_command(self, command, incident: Incident, effects, now) -> Steps:
        """An acknowledge pauses the climb (a resolve is seen by `follow`)."""
        steps = Steps(effects=effects)
        if isinstance(command, wire.Ack):
            esc.acknowledged(incident, self.directory, self.queue.timers, now, steps)
        return steps

    def command(self, command, incident: Incident, now: datetime) -> Steps:
        """Escalate, reassign or snooze, as the core decides (or `Refused`)."""
        state, d, timers = self.engine.state, self.directory, self.queue.timers
        match command:
            case wire.Escalate(actor=actor):
                return esc.escalate(state, incident, actor, d, timers, now)
            case wire.Reassign(actor=actor, user=user):
                return esc.reassign(state, incident, actor, user, d, timers, now)
            case wire.Snooze(actor=actor, seconds=seconds):
                duration = timedelta(seconds=seconds)
                return esc.snooze(state, incident, actor, duration, d, timers, now)
        raise core.Refused(f"not an escalation command: {type(command).__name__}")

    def delivery_failed(self, incident: Incident, failure, now, steps) -> None:
        """A person no contact method reached: the next level starts now."""
        esc.delivery_failed(
            self.engine.state, incident, failure, self.directory,
            self.queue.timers, now, steps,
        )  # fmt: skip

    # ------------------------------------------------------------ persistence

    def add_changes(self, steps: Steps, changes: Changes) -> None:
        """Put a step's timers and notify jobs in the commit of its events."""
        changes.escalation_timers.extend(_timer_row(t) for t in steps.timers.values())
        changes.cleared_timers.extend(steps.cleared)
        for notice in steps.notices:
            job = self._job_of(notice)
            changes.notify_jobs.append(
                {
                    "key": job.key,
                    "body": wire.encode(job).decode(),
                    "created_at": job.at,
                }
            )

    def committed(self, steps: Steps) -> None:
        """The step is durable: move the timers in memory, send its jobs."""
        for key in steps.cleared:
            self.queue.drop(key)
        for timer in steps.timers.values():
            self.queue.put(timer)
        if steps.timers:
            self._wake.set()
        if steps.notices:
            self._jobs_ready.set()

    def _job_of(self, notice: esc.Notice) -> wire.NotifyJob:
        incident = self.engine.state.incidents.get(notice.incident_id)
        return wire.NotifyJob(
            key=notice.key,
            incident=notice.incident_id,
            user=notice.user,
            team=notice.team,
            level=notice.level,
            repeat=notice.repeat,
            reason=notice.reason,
            why=notice.why,
            urgency=self.directory.urgency(  # type: ignore[arg-type]
                incident.service if incident else None,
                incident.severity if incident else None,
                notice.urgency,
            ),
            at=notice.at,
            title=incident.title if incident else "",
            severity=incident.severity if incident else None,  # type: ignore[arg-type]
            service=incident.service if incident else None,
        )

    # ------------------------------------------------------------ firing

    async def _run(self) -> None:
        """Sleep until the soonest timer, fire what is due, repeat."""
        while True:
            soonest = self.queue.soonest()
            wait = MAX_WAIT if soonest is None else (soonest - utcnow()).total_seconds()
            if wait > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(wait, MAX_WAIT))
                continue
            try:
                await self.fire_due()
            except Exception:
                log.exception("escalation timers failed, reloading from the store")
                await self.engine._recover_from_failure(1)
                await asyncio.sleep(1.0)

    async def fire_due(self) -> int:
        """Fire every timer due now, in due order, as one commit; how many fired."""
        async with self.engine.lock:
            now = utcnow()
            due = self.queue.due(now)
            if not due:
                return 0
            steps = Steps()
            for timer in due:
                incident = self.engine.state.incidents.get(timer.incident_id)
                esc.fire(self.engine.state, incident, timer, self.directory, now, steps)
                self.lateness.append((now - timer.due).total_seconds())
            await self.engine._commit(steps.effects, steps=steps)
        late = (now - due[0].due).total_seconds()  # the oldest is the latest
        if late >= 1.0:
            log.warning(
                "escalation timers fired late timers=%d late_s=%.1f", len(due), late
            )
        return len(due)

    async def _publish_jobs(self) -> None:
        """Publish the outbox's notify jobs to the NOTIFY work queue, oldest first."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._jobs_ready.wait(), MAX_WAIT)
            self._jobs_ready.clear()
            try:
                while await self._publish_batch():
                    pass
            except Exception as err:
                log.warning("notify job publish failed, will retry error=%s", err)
                await asyncio.sleep(1.0)
                self._jobs_ready.set()

    async def _publish_batch(self) -> bool:
        rows = await self.engine.store.notify_outbox(limit=500)
        if not rows:
            return False
        js = self.engine.js
        futures = [
            await js.publish_async(
                wire.SUBJECT_NOTIFY_JOBS,
                row["body"].encode(),
                headers={"Nats-Msg-Id": f"notify-{row['key']}"},
            )
            for row in rows
        ]
        await asyncio.wait_for(asyncio.gather(*futures), timeout=10)
        await self.engine.store.drop_notify([row["key"] for row in rows])
        log.debug("notify jobs published jobs=%d", len(rows))
        return True

    # ------------------------------------------------------------ overrides

    async def override_command(self, command) -> wire.Reply:
        """Add or remove an override: validated, stored, then used at once."""
        match command:
            case wire.OverrideAdd():
                return await self._add_override(command)
            case wire.OverrideRemove(id=override_id, actor=actor):
                return await self._remove_override(override_id, actor)
        return wire.Reply(ok=False, error="unknown command")

    async def _add_override(self, c: wire.OverrideAdd) -> wire.Reply:
        problem = self._override_problem(c)
        if problem:
            return wire.Reply(ok=False, error=problem)
        override = Override(
            self._next_override, c.schedule, c.user, c.start.astimezone(UTC),
            c.end.astimezone(UTC), c.actor, c.replacing,
        )  # fmt: skip
        created = utcnow()
        await self.engine.store.commit(
            Changes(new_overrides=[_override_row(override, created)])
        )
        self._next_override += 1
        self.overrides[override.id] = override
        self._refresh()
        log.info(
            "override added id=%d schedule=%s user=%s actor=%s",
            override.id, override.schedule, override.user, c.actor,
        )  # fmt: skip
        return wire.Reply(ok=True, override=override_view(override, created))

    def _override_problem(self, c: wire.OverrideAdd) -> str | None:
        d = self.directory
        for who in (c.actor, c.user, *([c.replacing] if c.replacing else [])):
            if who not in d.users:
                return f"unknown user {who!r}"
        if c.schedule not in d.schedules:
            return f"unknown schedule {c.schedule!r}"
        if c.start.tzinfo is None or c.end.tzinfo is None:
            return "override times need a time zone"
        if not c.start < c.end:
            return "an override ends after it starts"
        if c.end - c.start > MAX_OVERRIDE:
            return "an override lasts at most 90 days: change the schedule instead"
        return None

    async def _remove_override(self, override_id: int, actor: str) -> wire.Reply:
        if actor not in self.directory.users:
            return wire.Reply(ok=False, error=f"unknown user {actor!r}")
        override = self.overrides.get(override_id)
        if override is None:
            return wire.Reply(ok=False, error=f"no override {override_id}")
        await self.engine.store.commit(Changes(removed_overrides=[override_id]))
        del self.overrides[override_id]
        self._refresh()
        log.info("override removed id=%d actor=%s", override_id, actor)
        return wire.Reply(ok=True, override=override_view(override))

    # ------------------------------------------------------------ queries

    def answer(self, query) -> wire.QueryReply:
        """Who is on call, the shifts, the overrides, an incident's countdown."""
        match query:
            case wire.GetOnCall(schedule=name, team=team, at=at):
                return self._oncall(name, team, at or utcnow())
            case wire.GetShifts(schedule=name, start=start, days=days):
                return self._shifts(name, start or utcnow(), days)
            case wire.ListOverrides(schedule=name):
                found = [
                    o for o in self.overrides.values() if name in (None, o.schedule)
                ]
                return wire.OverrideList(overrides=[override_view(o) for o in found])
            case wire.GetEscalation(incident=incident_id):
                return self._escalation(incident_id)
        return wire.QueryFailed(error="unknown query")

    def _oncall(self, name, team, at: datetime) -> wire.QueryReply:
        d = self.directory
        if name is not None and name not in d.schedules:
            return wire.QueryFailed(error=f"unknown schedule {name!r}")
        if team is not None and team not in d.teams:
            return wire.QueryFailed(error=f"unknown team {team!r}")
        names = [name] if name else schedules_of_team(self.engine.config, team)
        return wire.OnCallList(at=at, schedules=[oncall_view(d, n, at) for n in names])

    def _shifts(self, name: str, start: datetime, days: int) -> wire.QueryReply:
        schedule = self.directory.schedules.get(name)
        if schedule is None:
            return wire.QueryFailed(error=f"unknown schedule {name!r}")
        if not 1 <= days <= 366:
            return wire.QueryFailed(error="days: expected 1 to 366")
        end = start + timedelta(days=days)
        shifts = final_shifts(schedule, self.directory.overrides, start, end)
        return wire.ShiftList(
            schedule=name, timezone=schedule.zone.key, start=start, end=end,
            shifts=[shift_view(s) for s in shifts],
        )  # fmt: skip

    def _escalation(self, incident_id: int) -> wire.EscalationView:
        timers = self.queue.timers
        climb = timers.get((incident_id, esc.ESCALATE))
        snooze = timers.get((incident_id, esc.SNOOZE))
        ack = timers.get((incident_id, esc.ACK_TIMEOUT))
        policy = self.directory.policies.get(climb.policy) if climb else None
        levels = len(policy.levels) if policy else 0
        exhausted = bool(
            climb and policy and climb.level >= levels and climb.repeat >= policy.repeat
        )
        return wire.EscalationView(
            incident=incident_id,
            policy=climb.policy if climb else None,
            next_level=None
            if not climb or exhausted
            else climb.level % max(levels, 1) + 1,
            levels=levels,
            repeat=climb.repeat if climb else 0,
            due_at=climb.due if climb else None,
            exhausted=exhausted,
            snoozed_until=snooze.due if snooze else None,
            ack_due_at=ack.due if ack else None,
        )


# ---------------------------------------------------------------- views


def schedules_of_team(config, team: str | None) -> list[str]:
    """Every schedule, or those whose layers hold a member of `team`."""
    if team is None:
        return list(config.schedules)
    members = set(config.teams[team].members)
    return [
        name
        for name, s in config.schedules.items()
        if any(members & set(layer.members) for layer in s.layers)
    ]


def oncall_view(directory, name: str, at: datetime) -> wire.OnCallView:
    """Who is on call in one schedule at `at`, and who comes next."""
    schedule = directory.schedules[name]
    current = on_call(schedule, directory.overrides, at)
    after = current.end if current else at
    following = next_shift(
        schedule, directory.overrides, after, current.user if current else None
    )
    return wire.OnCallView(
        schedule=name,
        timezone=schedule.zone.key,
        current=shift_view(current) if current else None,
        next=shift_view(following) if following else None,
    )


def shift_view(shift) -> wire.ShiftView:
    return wire.ShiftView(
        user=shift.user, start=shift.start, end=shift.end,
        source=shift.source, replacing=shift.replacing,
    )  # fmt: skip


def override_view(o: Override, created: datetime | None = None) -> wire.OverrideView:
    return wire.OverrideView(
        id=o.id, schedule=o.schedule, user=o.user, start=o.start, end=o.end,
        author=o.author, replacing=o.replacing, created_at=created,
    )  # fmt: skip


def _timer_of(row: dict) -> Timer:
    return Timer(
        row["incident_id"], row["kind"], row["due_at"], row["policy"],
        row["level"], row["repeat"],
    )  # fmt: skip


def _timer_row(timer: Timer) -> dict:
    return {
        "incident_id": timer.incident_id,
        "kind": timer.kind,
        "due_at": timer.due,
        "policy": timer.policy,
        "level": timer.level,
        "repeat": timer.repeat,
    }


def _override_of(row: dict) -> Override:
    return Override(
        row["id"], row["schedule"], row["user"], row["starts_at"], row["ends_at"],
        row["author"], row["replacing"],
    )  # fmt: skip


def _override_row(o: Override, created: datetime) -> dict:
    return {
        "id": o.id, "schedule": o.schedule, "user": o.user, "starts_at": o.start,
        "ends_at": o.end, "author": o.author, "replacing": o.replacing,
        "created_at": created,
    }  # fmt: skip
