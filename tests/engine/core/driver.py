"""Drive the pipeline with a fake clock: alerts, timers and silences, pages kept."""

from __future__ import annotations

import heapq
from datetime import UTC, datetime, timedelta

from bus.wire import Alert
from engine.core import pipeline, silence
from engine.core.matchers import parse_matcher
from engine.core.model import Effects, State
from engine.core.policy import Policy
from engine.core.routing import Router

T0 = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # a Tuesday


def policy(**rules) -> Policy:
    """Routes: `service=~db|orders-db` to db (route 0), `service=web` to web (1)."""
    router = Router(
        routes=(
            ((parse_matcher("service=~db|orders-db"),), "db"),
            ((parse_matcher("service=web"),), "web"),
        ),
        teams={"db": "database", "web": "webteam"},
        integration_services={},
        default_service="web",
    )
    return Policy(router, rules.pop("window", 600), frozenset({"alice"}), **rules)


def alert(key: str, status: str = "firing", **fields) -> Alert:
    fields.setdefault("severity", "warning")
    fields.setdefault("title", f"alert {key}")
    fields.setdefault("labels", {"service": "db"})
    return Alert(
        integration="prom", source="alertmanager", dedup_key=key, status=status,
        **fields,
    )  # fmt: skip


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Run:
    """One state, the timers the core asked for, and every page decided."""

    def __init__(self, rules: Policy | None = None) -> None:
        self.state = State()
        self.policy = rules or policy()
        self.timers: list = []
        self.pages: list = []
        self.events: list = []
        self.now = T0

    def send(self, *alerts: Alert, when: datetime | None = None) -> Effects:
        """Fire the timers due by `when`, then apply the alerts at `when`."""
        self.until(when or self.now)
        effects = Effects()
        for a in alerts:
            pipeline.ingest(self.state, a, self.now, self.policy, effects)
        return self._take(effects)

    def until(self, when: datetime) -> None:
        """Let the clock run to `when`, firing timers in due order."""
        while self.timers and self.timers[0][0] <= when:
            due, _, timer = heapq.heappop(self.timers)
            self.now = max(self.now, due)
            self._take(pipeline.fire(self.state, timer, due, self.policy))
        self.now = max(self.now, when)

    def silence(self, matchers: list[str], minutes: float, when=None) -> int:
        self.until(when or self.now)
        found, effects = silence.add(
            self.state, matchers, minutes * 60, "db migration", "alice", self.now,
            self.policy,
        )  # fmt: skip
        self._take(effects)
        return found.id

    def _take(self, effects: Effects) -> Effects:
        self.pages.extend(effects.pages)
        self.events.extend(effects.events)
        for timer in effects.timers:
            heapq.heappush(self.timers, (timer.due, id(timer), timer))
        return effects

    def reasons(self) -> list[str]:
        return [p.reason for p in self.pages]

    def suppressed(self) -> list[tuple[str, str]]:
        """(dedup_key, reason) of every `suppressed` event so far."""
        return [
            (e.data["dedup_key"], e.data["reason"])
            for e in self.events
            if e.type == "suppressed"
        ]

    def incident_of(self, key: str):
        incident_id = self.state.open_by_alert.get(("prom", key))
        if incident_id is None:
            incident_id = self.state.noise.resolved_by_alert[("prom", key)]
            return self.state.noise.resolved[incident_id]
        return self.state.incidents[incident_id]
