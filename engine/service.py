"""The engine's imperative shell: consume alerts, serve commands, publish events.

Alerts arrive in batches from a durable pull consumer. A batch runs through
the core, commits in one transaction together with the stream position it
reached, and only then is acknowledged; its events are published after the
commit. A crash anywhere in between replays rather than loses: messages at or
below the stored position are skipped, and events above the published
position are published again (JetStream drops the repeats by message id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import msgspec
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from bus import wire
from bus.consumer import PullConsumer, stream_sequence
from engine import noise, views
from engine.config import Config
from engine.core import incident as core
from engine.core import pipeline
from engine.core import silence as silences
from engine.core.model import Effects, State
from engine.core.routing import Router
from engine.deliveries import Deliveries
from engine.escalator import Escalator
from engine.integrations import PARSERS, ParseContext, PayloadRejected
from engine.timers import Timers
from store.db import OPEN_STATES, Changes, Store

log = logging.getLogger(__name__)

CONSUMER = "engine"
BATCH = 1000
CHECKPOINT_EVERY = 2.0  # seconds between WAL checkpoints on SQLite
MAX_REPLY = 900 * 1024  # below nats-server's default max_payload of 1 MB
CURSOR_ALERTS = "alerts_applied"
CURSOR_PUBLISHED = "events_published"


def policy_of(config: Config) -> core.Policy:
    """The core's view of the config."""
    router = Router(
        routes=tuple(config.compiled_routes()),
        teams={name: s.team for name, s in config.services.items()},
        integration_services={
            n: i.service for n, i in config.integrations.items() if i.service
        },
        default_service=config.default_service or "",
    )
    return core.Policy(
        router,
        config.group_window,
        frozenset(config.users),
        **noise.policy_rules(config),
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class Engine:
    """The single writer of the store."""

    def __init__(
        self, config: Config, store: Store, nc: Client, js: JetStreamContext
    ) -> None:
        self.config = config
        self.escalator = Escalator(self)
        self.policy = policy_of(config)
        self.store = store
        self.nc = nc
        self.js = js
        self.state = State()
        self.timers = Timers()
        self.deliveries = Deliveries(self)  # notify results onto the timeline
        self.lock = asyncio.Lock()
        self.applied = 0  # last ALERTS stream sequence committed
        self.published = 0  # last event id published
        self.processed = 0  # alerts applied since start, for the benchmark
        self._epoch = ""
        self._backlog = True  # events in the store that are not yet published
        self._outbox: asyncio.Queue[list[wire.Event]] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._subs: list = []
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Rebuild state from the store, then start consuming and serving."""
        await self._load()
        self._subs.append(
            await self.nc.subscribe(
                f"{wire.SUBJECT_CMD}.*", queue="engine", cb=self._on_command
            )
        )
        self._subs.append(
            await self.nc.subscribe(
                f"{wire.SUBJECT_QUERY}.*", queue="engine", cb=self._on_query
            )
        )
        self._tasks.append(asyncio.create_task(self._consume(), name="engine-consume"))
        self._tasks.append(
            asyncio.create_task(self._fire_timers(), name="engine-timers")
        )
        self._tasks.append(
            asyncio.create_task(self._publisher(), name="engine-publish")
        )
        self._tasks.append(
            asyncio.create_task(self.deliveries.run(), name="engine-notified")
        )
        self._tasks.extend(self.escalator.tasks())
        if self.store.checkpoints_needed:
            self._tasks.append(
                asyncio.create_task(self._checkpoints(), name="engine-checkpoint")
            )
        log.info(
            "engine started open_incidents=%d applied=%d",
            len(self.state.incidents),
            self.applied,
        )

    async def stop(self) -> None:
        self._stopping.set()
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        for task in self._tasks:
            task.cancel()
        _, pending = await asyncio.wait(self._tasks, timeout=5.0)
        for task in pending:
            log.warning("engine task did not stop task=%s", task.get_name())
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.store.commit(Changes(cursors={CURSOR_PUBLISHED: self.published}))

    async def _load(self) -> None:
        state = State()
        rows, alerts = await self.store.open_incidents()
        by_incident: dict[int, list[dict]] = {}
        for alert in alerts:
            by_incident.setdefault(alert["incident_id"], []).append(alert)
        for row in rows:
            state.add(views.incident_from_rows(row, by_incident.get(row["id"], [])))
        max_incident, max_event = await self.store.max_ids()
        state.next_incident_id = max_incident + 1
        state.next_event_id = max_event + 1
        rows = await self.store.silences(active_at=utcnow())
        self.timers.clear()
        self.timers.add(pipeline.restore(
            state, self.policy, [views.silence_from_row(r) for r in rows]
        ))  # fmt: skip
        state.noise.next_silence_id = await self.store.max_silence_id() + 1
        self.state = state
        self.applied = await self.store.cursor(CURSOR_ALERTS)
        self.published = await self.store.cursor(CURSOR_PUBLISHED)
        self._epoch = await self.store.epoch()
        await self.escalator.load()

    # ------------------------------------------------------------ alerts

    async def _subscribe(self) -> PullConsumer:
        """A fresh durable consumer that starts right after the stored position.

        The store, not the consumer, says what was applied: recreating the
        consumer redelivers at once whatever a killed engine had fetched but
        not committed, instead of waiting out its ack wait.
        """
        with contextlib.suppress(NotFoundError):
            await self.js.delete_consumer("ALERTS", CONSUMER)
        config = ConsumerConfig(
            durable_name=CONSUMER,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self.applied + 1,
            ack_policy=AckPolicy.ALL,
            ack_wait=60,
            max_ack_pending=50_000,
            filter_subject="warroom.alerts.>",
        )
        await self.js.add_consumer("ALERTS", config)
        consumer = PullConsumer(self.nc, "ALERTS", CONSUMER, BATCH)
        await consumer.start()
        return consumer

    async def _consume(self) -> None:
        """Apply batches in order while the next messages are being delivered.

        After any failure, memory is rebuilt from the store and the consumer
        recreated at the stored position, so nothing delivered after a failed
        batch can be applied before it.
        """
        failures = 0
        while not self._stopping.is_set():
            try:
                consumer = await self._subscribe()
            except Exception as err:  # the bus is away: wait for the reconnect
                log.debug("consumer not ready error=%s", err)
                await asyncio.sleep(0.5)
                continue
            try:
                while True:
                    await self.apply_messages(await consumer.take())
                    failures = 0
            except Exception:
                failures += 1
                log.exception("alert batch failed, will retry attempt=%d", failures)
            finally:
                await consumer.stop()
            await self._recover_from_failure(failures)

    async def _checkpoints(self) -> None:
        """Move SQLite's write-ahead log into the database off the commit path."""
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY)
            try:
                await self.store.checkpoint()
            except Exception as err:  # a busy database: the next round catches up
                log.debug("checkpoint failed error=%s", err)

    async def _recover_from_failure(self, failures: int) -> None:
        # The core already changed memory for a batch that did not commit:
        # rebuild from the store so memory matches what is durable.
        async with self.lock:
            with contextlib.suppress(Exception):
                await self._load()
        await asyncio.sleep(min(5.0, 0.2 * 2**failures))

    async def apply_messages(self, msgs) -> None:
        """Apply a fetched batch: core, one commit, ack, publish."""
        if not msgs:
            return
        alerts: list[wire.Alert] = []
        last = self.applied
        for msg in msgs:
            seq = stream_sequence(msg)
            if seq <= self.applied:
                continue  # applied before a crash, redelivered: skip, never twice
            last = max(last, seq)
            alerts.extend(self._decode(msg))
        if last > self.applied:
            await self._apply(alerts, last)
            self.applied = last
        await msgs[-1].ack()  # AckPolicy.ALL: acknowledges the whole batch

    def _decode(self, msg) -> list[wire.Alert]:
        if msg.subject.startswith("warroom.alerts.raw."):
            return self._parse_raw(msg)
        try:
            message = wire.alert_decoder.decode(msg.data)
        except msgspec.DecodeError as err:
            log.warning(
                "undecodable alert dropped subject=%s error=%s", msg.subject, err
            )
            return []
        alerts = message.alerts if isinstance(message, wire.AlertBatch) else [message]
        return [
            a if a.received_at else msgspec.structs.replace(a, received_at=utcnow())
            for a in alerts
        ]

    def _parse_raw(self, msg) -> list[wire.Alert]:
        name = msg.subject.removeprefix("warroom.alerts.raw.")
        integration = self.config.integrations.get(name)
        if integration is None or integration.kind not in PARSERS:
            log.warning(
                "raw alert for unknown integration dropped integration=%s", name
            )
            return []
        context = ParseContext(
            name, integration.kind, utcnow(), integration.timezone, integration.service
        )
        try:
            return PARSERS[integration.kind](msg.data, context)
        except PayloadRejected as err:
            log.warning("raw alert rejected integration=%s reason=%s", name, err)
            return []

    async def _apply(self, alerts: list[wire.Alert], position: int) -> None:
        async with self.lock:
            effects = Effects()
            for alert in alerts:
                now = alert.received_at or utcnow()
                core.ingest(self.state, alert, now, self.policy, effects)
            await self._commit(effects, {CURSOR_ALERTS: position})
        self.processed += len(alerts)

    # ------------------------------------------------------------ persistence

    async def _commit(
        self, effects: Effects, cursors: dict[str, int] | None = None, steps=None
    ) -> None:
        """Store what a step changed in one transaction, then queue its events.

        Escalation adds its part first: pages start climbs, resolves end
        them, and its timers and notify jobs commit with the events.
        """
        steps = self.escalator.follow(effects, steps)
        changes = Changes(cursors=dict(cursors or {}))
        if self.published:
            changes.cursors[CURSOR_PUBLISHED] = self.published
        for incident in effects.incidents.values():
            rows = (
                changes.changed_incidents if incident.stored else changes.new_incidents
            )
            rows.append(views.incident_row(incident))
        for record in effects.alerts.values():
            rows = changes.changed_alerts if record.stored else changes.new_alerts
            rows.append(views.alert_row(record))
        for key, record in effects.touched.items():
            if record.stored and key not in effects.alerts:
                changes.repeated_alerts.append(views.repeat_row(record))
        changes.events = [views.event_row(e) for e in effects.events]
        changes.orphans = [_orphan_row(a) for a in effects.orphans]
        changes.silences = [views.silence_row(s) for s in effects.silences.values()]
        for alert in effects.orphans:
            log.info(
                "orphan recovery integration=%s dedup_key=%s",
                alert.integration,
                alert.dedup_key,
            )
        self.escalator.add_changes(steps, changes)
        await self.store.commit(changes)
        self.escalator.committed(steps)
        self.timers.add(effects.timers)
        for incident in effects.incidents.values():
            incident.stored = True
        for record in effects.alerts.values():
            record.stored = True
        summaries = {i.id: views.summary_of(i) for i in effects.incidents.values()}
        self._evict_resolved(effects)
        if effects.events:
            self._outbox.put_nowait(
                [views.event_of(e, summaries[e.incident_id]) for e in effects.events]
            )

    def _evict_resolved(self, effects: Effects) -> None:
        for incident in effects.incidents.values():
            if not incident.is_open:
                self.state.incidents.pop(incident.id, None)

    async def _fire_timers(self) -> None:
        """Run the core's timers when due, each batch in one commit."""
        while True:
            await self.timers.wait(utcnow())
            due = self.timers.pop_due(utcnow())
            if not due:
                continue
            try:
                async with self.lock:
                    effects, now = Effects(), utcnow()
                    for timer in due:
                        pipeline.fire(self.state, timer, now, self.policy, effects)
                    await self._commit(effects)
            except Exception:
                log.exception("timers failed, reloading from the store")
                await self._recover_from_failure(1)

    async def _publisher(self) -> None:
        """Publish committed events in commit order, from one task.

        Events are queued under the writer lock right after their commit, so
        the queue holds them in id order. After a failed publish, everything
        above the published position is republished from the store first.
        """
        while True:
            if self._backlog:
                try:
                    await self._flush_backlog()
                except Exception as err:
                    log.debug("backlog publish failed error=%s", err)
                    await asyncio.sleep(1.0)
                    continue
                self._backlog = False
            try:
                events = await asyncio.wait_for(self._outbox.get(), 1.0)
            except TimeoutError:
                continue
            while not self._outbox.empty() and len(events) < 5000:
                events.extend(self._outbox.get_nowait())
            events = [e for e in events if e.id > self.published]
            if not events:
                continue
            try:
                await self._send(events)
            except Exception as err:
                log.warning(
                    "event publish failed, republishing from the store error=%s", err
                )
                self._backlog = True

    async def _send(self, events: list[wire.Event]) -> None:
        futures = []
        for event in events:
            futures.append(await self.js.publish_async(
                wire.event_subject(event.incident_id),
                wire.encode(event),
                headers={"Nats-Msg-Id": f"{self._epoch}-{event.id}"},
            ))  # fmt: skip
        await asyncio.wait_for(asyncio.gather(*futures), timeout=10)
        self.published = max(self.published, events[-1].id)

    async def _flush_backlog(self) -> None:
        """Publish every stored event above the published position, in order."""
        while rows := await self.store.events_after(self.published, limit=1000):
            summaries = {}
            for incident_id in {r["incident_id"] for r in rows}:
                found = await self.store.incident(incident_id)
                if found:
                    summaries[incident_id] = views.summary_from_row(found[0])
            await self._send(
                [views.event_of(r, summaries.get(r["incident_id"])) for r in rows]
            )

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until every committed event is published (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.published < self.state.next_event_id - 1 and loop.time() < deadline:
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------ commands

    async def _on_command(self, msg) -> None:
        try:
            command = wire.command_decoder.decode(msg.data)
        except msgspec.DecodeError as err:
            await self._reply(
                msg, wire.Reply(ok=False, error=f"malformed command: {err}")
            )
            return
        try:
            reply = await self.execute(command)
        except Exception:
            log.exception("command failed command=%s", type(command).__name__)
            reply = wire.Reply(ok=False, error="internal error; see the engine log")
        await self._reply(msg, reply)

    async def execute(self, command: wire.Command) -> wire.Reply:
        """Run one command under the writer lock; refusals become a reply."""
        if isinstance(command, wire.SilenceCommand):
            return await self._silence_command(command)
        if isinstance(command, wire.ScheduleCommand):
            async with self.lock:
                return await self.escalator.override_command(command)
        async with self.lock:
            incident = await self._incident_for(command.incident)
            if incident is None:
                return wire.Reply(ok=False, error=f"no incident {command.incident}")
            now = utcnow()
            steps = None
            try:
                match command:
                    case wire.Escalate() | wire.Reassign() | wire.Snooze():
                        steps = self.escalator.command(command, incident, now)
                        effects = steps.effects
                    case wire.Ack(actor=actor):
                        effects = core.acknowledge(
                            self.state, incident, actor, now, self.policy
                        )
                    case wire.Resolve(actor=actor, reason=reason, note=note):
                        effects = core.resolve(
                            self.state, incident, actor, reason, note, now, self.policy
                        )
                    case wire.AddNote(actor=actor, text=text):
                        effects = core.add_note(
                            self.state, incident, actor, text, now, self.policy
                        )
            except core.Refused as err:
                self._evict_if_resolved(incident)
                return wire.Reply(ok=False, error=str(err))
            if steps is None:
                steps = self.escalator.after_command(command, incident, effects, now)
            await self._commit(effects, steps=steps)
            self._evict_if_resolved(incident)
        log.info(
            "command applied command=%s incident=%d actor=%s",
            type(command).__name__,
            incident.id,
            command.actor,
        )
        return wire.Reply(ok=True, incident=views.summary_of(incident))

    async def _silence_command(self, command) -> wire.Reply:
        async with self.lock:
            now = utcnow()
            try:
                if isinstance(command, wire.AddSilence):
                    found, effects = silences.add(
                        self.state, command.matchers, command.duration,
                        command.comment, command.actor, now, self.policy,
                    )  # fmt: skip
                else:
                    found, effects = silences.expire(
                        self.state, command.silence, command.actor, now, self.policy
                    )
            except core.Refused as err:
                return wire.Reply(ok=False, error=str(err))
            await self._commit(effects)
        log.info(
            "command applied command=%s silence=%d actor=%s",
            type(command).__name__,
            found.id,
            command.actor,
        )
        return wire.Reply(
            ok=True, silence=views.silence_view(views.silence_row(found), now)
        )

    async def _incident_for(self, incident_id: int):
        if not _valid_id(incident_id):
            return None
        # A resolved incident in its reopen window is the core's own object.
        incident = self.state.incidents.get(
            incident_id
        ) or self.state.noise.resolved.get(incident_id)
        if incident is not None:
            return incident
        found = await self.store.incident(incident_id)
        if found is None:
            return None
        incident = views.incident_from_rows(*found)
        self.state.incidents[incident.id] = incident  # held only for this command
        return incident

    def _evict_if_resolved(self, incident) -> None:
        if not incident.is_open:
            self.state.incidents.pop(incident.id, None)

    async def _reply(self, msg, reply: wire.Wire) -> None:
        if not msg.reply:
            return
        payload = wire.encode(reply)
        if len(payload) > MAX_REPLY:
            log.warning(
                "reply too large subject=%s bytes=%d", msg.subject, len(payload)
            )
            payload = wire.encode(wire.QueryFailed(error="the answer is too large"))
        try:
            await msg.respond(payload)
        except Exception as err:  # the asker is gone or the bus is down
            log.warning("reply failed subject=%s error=%s", msg.subject, err)

    # ------------------------------------------------------------ queries

    async def _on_query(self, msg) -> None:
        try:
            query = wire.query_decoder.decode(msg.data)
            reply = await self.answer(query)
        except msgspec.DecodeError as err:
            reply = wire.QueryFailed(error=f"malformed query: {err}")
        except Exception:
            log.exception("query failed subject=%s", msg.subject)
            reply = wire.QueryFailed(error="internal error; see the engine log")
        await self._reply(msg, reply)

    async def answer(self, query: wire.Query) -> wire.QueryReply:
        """Answer a query from the store (the engine is its only writer)."""
        match query:
            case wire.ListIncidents(state=state, limit=limit):
                states = {"open": OPEN_STATES, "all": None}.get(state, (state,))
                rows = await self.store.incidents(states, limit)
                return wire.IncidentList(
                    incidents=[views.summary_from_row(r) for r in rows]
                )
            case wire.GetIncident(incident=incident_id):
                return await self._detail(incident_id)
            case wire.GetSnapshot(recent_resolved=recent):
                return await self._snapshot(recent)
            case wire.ListUsers():
                return wire.UserList(users=[
                    wire.UserView(handle=h, name=u.name, logins=list(u.logins))
                    for h, u in self.config.users.items()
                ])  # fmt: skip
            case wire.ListSilences(all=every, limit=limit):
                now = utcnow()
                rows = await self.store.silences(None if every else now, limit)
                return wire.SilenceList(
                    silences=[views.silence_view(r, now) for r in rows]
                )
            case (
                wire.GetOnCall() | wire.GetShifts() | wire.ListOverrides()
                | wire.GetEscalation()
            ):  # fmt: skip
                return self.escalator.answer(query)
        return wire.QueryFailed(error="unknown query")

    async def _detail(self, incident_id: int) -> wire.QueryReply:
        found = (
            await self.store.incident(incident_id) if _valid_id(incident_id) else None
        )
        if found is None:
            return wire.QueryFailed(error=f"no incident {incident_id}")
        row, alerts = found
        timeline = await self.store.timeline(incident_id)
        return bounded_detail(
            views.summary_from_row(row),
            [views.alert_view(a) for a in alerts],
            [views.event_of(e) for e in timeline],
        )

    async def _snapshot(self, recent: int) -> wire.Snapshot:
        async with self.lock:  # a consistent cut: nothing commits while we read
            open_rows = await self.store.incidents(OPEN_STATES, 5000)
            resolved = await self.store.incidents(("resolved",), recent)
            last = self.state.next_event_id - 1
        rows = open_rows + resolved
        return wire.Snapshot(
            incidents=[views.summary_from_row(r) for r in rows],
            last_event_id=last,
            taken_at=utcnow(),
        )


def _orphan_row(alert: wire.Alert) -> dict:
    return {
        "integration": alert.integration,
        "dedup_key": alert.dedup_key,
        "title": alert.title,
        "received_at": alert.received_at or utcnow(),
    }


def _valid_id(incident_id: int) -> bool:
    """Ids are positive 64-bit integers; anything else names no incident."""
    return 0 < incident_id < 2**63


def bounded_detail(
    summary: wire.IncidentSummary, alerts: list, timeline: list
) -> wire.IncidentDetail:
    """The detail, halving its alerts and events until it fits one message."""
    keep_alerts, keep_events = len(alerts), len(timeline)
    while True:
        detail = wire.IncidentDetail(
            incident=summary,
            alerts=alerts[:keep_alerts],
            timeline=timeline[len(timeline) - keep_events :],
            alerts_omitted=len(alerts) - keep_alerts,
            timeline_omitted=len(timeline) - keep_events,
        )
        if len(wire.encode(detail)) <= MAX_REPLY or keep_alerts + keep_events <= 2:
            return detail
        keep_alerts = max(1, keep_alerts // 2) if keep_alerts else 0
        keep_events = max(1, keep_events // 2) if keep_events else 0
