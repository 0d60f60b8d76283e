"""Escalation with a fake clock: timing, repeats, exhaustion, acks and snoozes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.core import escalation as esc
from engine.core import incident as core
from engine.core.escalation import Directory, EscalationPolicy, Level, Target
from engine.core.model import Incident, State
from engine.core.schedule import Layer, Override, Restriction, Schedule

T0 = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)
DAILY = Layer("day", ("alice", "bob"), timedelta(days=1), time(9), date(2024, 7, 1))
NIGHTS_ONLY = Layer(
    "nights", ("carol",), timedelta(days=1), time(0), date(2024, 7, 1),
    restrictions=(Restriction(frozenset(range(7)), time(22), time(6)),),
)  # fmt: skip


def directory(*levels: Level, repeat: int = 0, ack_timeout=None, overrides=()):
    return Directory(
        users=frozenset({"alice", "bob", "carol", "dave"}),
        teams={"database": ("alice", "bob"), "empty": ()},
        schedules={
            "primary": Schedule("primary", ZoneInfo("Europe/London"), (DAILY,)),
            "nights": Schedule("nights", ZoneInfo("Europe/London"), (NIGHTS_ONLY,)),
        },
        policies={"p": EscalationPolicy("p", levels, repeat)},
        service_policies={"db": "p"},
        ack_timeouts={"db": ack_timeout} if ack_timeout else {},
        overrides=tuple(overrides),
    )


def level(*targets: str, delay: timedelta = 5 * MIN) -> Level:
    return Level(tuple(Target(*t.split(":")) for t in targets), delay)


class Clock:
    """One incident under a policy, driven by a fake clock and kept timers."""

    def __init__(self, d: Directory) -> None:
        self.d = d
        self.state = State()
        self.incident = Incident(
            1, "disk full", "critical", "triggered", "db", "database", None, T0
        )
        self.state.add(self.incident)
        self.timers: dict = {}
        self.events: list = []
        self.notices: list = []

    def apply(self, steps: esc.Steps) -> esc.Steps:
        self.events.extend(steps.effects.events)
        self.notices.extend(steps.notices)
        for key in steps.cleared:
            self.timers.pop(key, None)
        self.timers.update(steps.timers)
        return steps

    def page(self, at: datetime = T0) -> None:
        steps = esc.Steps()
        esc.page(self.state, self.incident, "opened", self.d, self.timers, at, steps)
        self.apply(steps)

    def run_until(self, until: datetime) -> None:
        """Fire every timer due up to `until`, each at its own due time."""
        for _ in range(1000):
            found = esc.due(self.timers, until)
            if not found:
                return
            timer = found[0]
            steps = esc.Steps()
            esc.fire(self.state, self.incident, timer, self.d, timer.due, steps)
            self.apply(steps)

    def ack(self, at: datetime, actor: str = "alice") -> None:
        self.apply(esc.Steps(effects=core.acknowledge(
            self.state, self.incident, actor, at,
            core.Policy(None, 600, frozenset(self.d.users)),
        )))  # fmt: skip
        steps = esc.Steps()
        esc.acknowledged(self.incident, self.d, self.timers, at, steps)
        self.apply(steps)

    def reached(self) -> list[tuple[int, str, int]]:
        """(level, user, minute) of every person notified."""
        return [
            (n.level, n.user, int((n.at - T0) / MIN))
            for n in self.notices
            if n.user is not None
        ]


def test_unacknowledged_incident_climbs_one_level_per_delay():
    clock = Clock(directory(level("user:alice"), level("user:bob", delay=10 * MIN),
                            level("user:carol")))  # fmt: skip
    clock.page()
    clock.run_until(T0 + 60 * MIN)
    # Level 2 starts after level 1's 5 minutes, level 3 after level 2's 10.
    assert clock.reached() == [(1, "alice", 0), (2, "bob", 5), (3, "carol", 15)]
    assert [e.data["reason"] for e in clock.events if e.type == "escalated"] == [
        "opened", "timeout", "timeout",
    ]  # fmt: skip


def test_policy_repeats_then_records_exhaustion_for_the_team():
    clock = Clock(directory(level("user:alice"), level("user:bob"), repeat=1))
    clock.page()
    clock.run_until(T0 + 120 * MIN)
    # Two levels, gone through twice (repeat 1), then exhausted once the last
    # level's delay has run out at minute 20; nothing fires after that.
    assert clock.reached() == [
        (1, "alice", 0), (2, "bob", 5), (1, "alice", 10), (2, "bob", 15),
    ]  # fmt: skip
    exhausted = [e for e in clock.events if e.type == "escalation_exhausted"]
    assert len(exhausted) == 1 and exhausted[0].at == T0 + 20 * MIN
    assert exhausted[0].data["team"] == "database"
    assert [n.team for n in clock.notices if n.user is None] == ["database"]
    assert clock.timers[(1, esc.ESCALATE)].due is None


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        # A team without members is skipped at once: bob is paged at minute 0.
        ("team:empty", [(2, "bob", 0), (3, "carol", 5)]),
        # A schedule with nobody on call at noon (nights only) likewise.
        ("schedule:nights", [(2, "bob", 0), (3, "carol", 5)]),
        # A schedule with someone on call is not skipped: alice has Monday.
        ("schedule:primary", [(1, "alice", 0), (2, "bob", 5), (3, "carol", 10)]),
    ],
)
def test_levels_that_resolve_to_nobody_are_skipped_at_once(first, expected):
    clock = Clock(directory(level(first), level("user:bob"), level("user:carol")))
    clock.page()
    clock.run_until(T0 + 11 * MIN)
    assert clock.reached() == expected
    skipped = [e for e in clock.events if e.type == "escalated" and e.data["skipped"]]
    assert len(skipped) == (0 if first == "schedule:primary" else 1)


def test_every_person_is_named_with_why_they_were_chosen():
    carol = Override(4, "primary", "carol", T0 - MIN, T0 + MIN, "dave")
    clock = Clock(
        directory(level("schedule:primary", "team:database"), overrides=[carol])
    )
    clock.page()
    event = next(e for e in clock.events if e.type == "escalated")
    # The override, not alice, is the schedule's person; the team adds both.
    assert event.data["people"] == [
        {"user": "carol", "why": "on call in schedule primary, override 4"},
        {"user": "alice", "why": "member of team database"},
        {"user": "bob", "why": "member of team database"},
    ]
    assert [n.user for n in clock.notices] == ["carol", "alice", "bob"]
    assert len({n.key for n in clock.notices}) == 3


def test_acknowledging_stops_the_climb():
    clock = Clock(directory(level("user:alice"), level("user:bob")))
    clock.page()
    clock.ack(T0 + 2 * MIN)
    clock.run_until(T0 + 60 * MIN)
    # Bob is never reached: the climb paused before level 2 fell due.
    assert clock.reached() == [(1, "alice", 0)]


def test_ack_timeout_returns_the_incident_to_triggered_and_escalates_again():
    clock = Clock(
        directory(level("user:alice"), level("user:bob"), ack_timeout=30 * MIN)
    )
    clock.page()
    clock.ack(T0 + 2 * MIN)
    clock.run_until(T0 + 33 * MIN)
    # Acknowledged at 2, not resolved by 32: level 1 again, then level 2.
    assert clock.reached() == [(1, "alice", 0), (1, "alice", 32)]
    assert clock.incident.state == "triggered"
    back = next(e for e in clock.events if e.type == "unacknowledged")
    assert (back.at, back.data["reason"]) == (T0 + 32 * MIN, "ack_timeout")
    clock.run_until(T0 + 40 * MIN)
    assert clock.reached()[-1] == (2, "bob", 37)


def test_snooze_returns_the_incident_to_triggered_when_it_ends():
    clock = Clock(directory(level("user:alice"), level("user:bob")))
    clock.page()
    clock.ack(T0 + MIN)
    at = T0 + 2 * MIN
    clock.apply(
        esc.snooze(
            clock.state, clock.incident, "alice", 20 * MIN, clock.d, clock.timers, at
        )
    )
    clock.run_until(T0 + 23 * MIN)
    # Quiet until minute 22, then the policy starts over from level 1.
    assert clock.reached() == [(1, "alice", 0), (1, "alice", 22)]
    assert [e.type for e in clock.events][-3:] == [
        "snoozed",
        "unacknowledged",
        "escalated",
    ]


@pytest.mark.parametrize(
    ("state", "duration", "error"),
    [
        # Snoozing is for an incident someone owns.
        ("triggered", 10 * MIN, "incident 1 is triggered: acknowledge it first"),
        # A day at most: a longer quiet is a silence or a resolve.
        (
            "acknowledged",
            timedelta(days=2),
            "a snooze lasts more than 0s and at most 1d",
        ),
    ],
)
def test_snooze_refuses_what_does_not_apply(state, duration, error):
    clock = Clock(directory(level("user:alice")))
    clock.incident.state = state
    with pytest.raises(core.Refused, match=error.replace("(", r"\(")):
        esc.snooze(clock.state, clock.incident, "alice", duration, clock.d, {}, T0)


def test_manual_escalate_starts_the_next_level_now():
    clock = Clock(
        directory(level("user:alice"), level("user:bob"), level("user:carol"))
    )
    clock.page()
    clock.apply(
        esc.escalate(
            clock.state, clock.incident, "dave", clock.d, clock.timers, T0 + MIN
        )
    )
    clock.run_until(T0 + 7 * MIN)
    # Level 2 at minute 1 by hand, then level 3 its delay later, at 6.
    assert clock.reached() == [(1, "alice", 0), (2, "bob", 1), (3, "carol", 6)]
    manual = [e for e in clock.events if e.data.get("reason") == "manual"]
    assert manual[0].actor == "dave"


def test_reassign_notifies_the_new_owner_and_resumes_the_climb_from_now():
    clock = Clock(directory(level("user:alice"), level("user:bob")))
    clock.page()
    clock.ack(T0 + MIN)
    at = T0 + 2 * MIN
    clock.apply(
        esc.reassign(
            clock.state, clock.incident, "alice", "carol", clock.d, clock.timers, at
        )
    )
    assert (clock.incident.owner, clock.incident.state) == ("carol", "triggered")
    assert clock.notices[-1].user == "carol"
    clock.run_until(T0 + 8 * MIN)
    # Carol has level 1's delay from minute 2 to acknowledge; then bob.
    assert clock.reached()[-1] == (2, "bob", 7)


def test_a_restart_between_two_levels_neither_loses_nor_repeats_a_step():
    d = directory(level("user:alice"), level("user:bob"), level("user:carol"))
    first = Clock(d)
    first.page()
    first.run_until(T0 + 6 * MIN)  # level 2 has started; level 3 is due at 10
    stored = dict(first.timers)
    # A new engine: the same incident and the stored timers, nothing else.
    second = Clock(d)
    second.timers = stored
    second.run_until(T0 + 30 * MIN)
    assert first.reached() + second.reached() == [
        (1, "alice", 0), (2, "bob", 5), (3, "carol", 10),
    ]  # fmt: skip


def test_a_late_timer_records_how_late_and_catches_up_in_order():
    clock = Clock(
        directory(level("user:alice"), level("user:bob"), level("user:carol"))
    )
    clock.page()
    # The engine was away from minute 1 to minute 12: level 2 (due 5) fires
    # 7 minutes late, and level 3 (due 10, counted from 5) right after it.
    steps = esc.Steps()
    for timer in esc.due(clock.timers, T0 + 12 * MIN):
        esc.fire(clock.state, clock.incident, timer, clock.d, T0 + 12 * MIN, steps)
    clock.apply(steps)
    steps = esc.Steps()
    for timer in esc.due(clock.timers, T0 + 12 * MIN):
        esc.fire(clock.state, clock.incident, timer, clock.d, T0 + 12 * MIN, steps)
    clock.apply(steps)
    late = [e for e in clock.events if e.type == "escalated"][1:]
    assert [e.data["level"] for e in late] == [2, 3]
    assert [e.data["late_by"] for e in late] == [420.0, 120.0]
    assert late[0].text.endswith("late by 7m")


def test_resolving_clears_every_timer():
    clock = Clock(directory(level("user:alice"), ack_timeout=30 * MIN))
    clock.page()
    clock.ack(T0 + MIN)
    steps = esc.Steps()
    esc.resolved(clock.incident, clock.timers, steps)
    clock.apply(steps)
    assert clock.timers == {}


@pytest.mark.parametrize(
    ("service", "severity", "expected"),
    [
        # No setting: the default the core chose (critical and error wake).
        ("plain", "warning", "low"),
        # A payments service where a warning already means money lost.
        ("payments", "warning", "high"),
        # ... and where an error is still for the morning, by its own choice.
        ("payments", "error", "low"),
        # A service nobody configured urgency for keeps the default.
        (None, "critical", "low"),
    ],
)
def test_urgency_per_service_overrides_the_default(service, severity, expected):
    from engine.core.escalation import Directory

    directory = Directory(
        users=frozenset(), teams={}, schedules={}, policies={},
        service_policies={}, ack_timeouts={},
        high_urgency={"payments": frozenset({"critical", "warning"})},
    )  # fmt: skip
    assert directory.urgency(service, severity, "low") == expected
