"""Escalation: an unacknowledged incident climbs its policy one level per delay.

A policy is levels of targets (a user, a schedule's on-call person, every
member of a team), each with a delay before the next level; after the last
level it starts over `repeat` more times, then it is exhausted and the team's
chat room is told. A level that resolves to nobody is recorded and skipped at
once. Acknowledging pauses the climb; an acknowledgment timeout, a snooze's
end or a manual escalate starts it again.

Where an incident stands is a `Timer` (the next level to start, and when),
stored with the events of the step that set it, so a restart neither loses
nor repeats a step. A timer that fires late computes the next due time from
its own due time, not from the clock: an engine away for ten minutes catches
up on every step that fell due, in order, once each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from engine.core.incident import Refused
from engine.core.model import Effects, Incident, State
from engine.core.schedule import Override, Schedule, on_call

ESCALATE = "escalate"
ACK_TIMEOUT = "ack_timeout"
SNOOZE = "snooze"
KINDS = (ESCALATE, ACK_TIMEOUT, SNOOZE)
MAX_SNOOZE = timedelta(days=1)
TimerKey = tuple[int, str]


@dataclass(frozen=True, slots=True)
class Target:
    """Who a level reaches: `user`, `schedule` or `team`, by name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class Level:
    """Targets notified together, and how long before the next level."""

    targets: tuple[Target, ...]
    delay: timedelta


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Levels in order, gone through `repeat` more times after the first."""

    name: str
    levels: tuple[Level, ...]
    repeat: int = 0


@dataclass(frozen=True, slots=True)
class Directory:
    """What escalation needs from the config, plus the run-time overrides."""

    users: frozenset[str]
    teams: Mapping[str, tuple[str, ...]]
    schedules: Mapping[str, Schedule]
    policies: Mapping[str, EscalationPolicy]
    service_policies: Mapping[str, str]  # service -> policy name
    ack_timeouts: Mapping[str, timedelta]  # service -> timeout, when set
    overrides: tuple[Override, ...] = ()
    high_urgency: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def policy_for(self, service: str | None) -> EscalationPolicy | None:
        return self.policies.get(self.service_policies.get(service or "", ""))

    def urgency(self, service: str | None, severity: str | None, default: str) -> str:
        """`high` or `low`: the service's own severities, else `default`."""
        urgent = self.high_urgency.get(service or "")
        if urgent is None or severity is None:
            return default
        return "high" if severity in urgent else "low"


@dataclass(frozen=True, slots=True)
class Timer:
    """A step due for an incident; `due` None is a paused escalation.

    For `escalate`, `level` is the 0-based index of the next level to start
    and `repeat` how many times the policy has started over.
    """

    incident_id: int
    kind: str
    due: datetime | None
    policy: str = ""
    level: int = 0
    repeat: int = 0

    @property
    def key(self) -> TimerKey:
        return (self.incident_id, self.kind)


@dataclass(frozen=True, slots=True)
class Notice:
    """The decision to notify one person (or a team's chat room) now.

    `key` is stable for one step and person, so a re-sent notice is dropped
    by the bus's duplicate window and the channel worker.
    """

    incident_id: int
    key: str
    user: str | None
    team: str | None
    level: int
    repeat: int
    reason: str
    why: str
    urgency: str
    at: datetime


@dataclass(slots=True)
class Steps:
    """What escalation decided: events, notices, and timers set or cleared."""

    effects: Effects = field(default_factory=Effects)
    notices: list[Notice] = field(default_factory=list)
    timers: dict[TimerKey, Timer] = field(default_factory=dict)
    cleared: set[TimerKey] = field(default_factory=set)
    escalated: set[int] = field(default_factory=set)  # incidents with a level here

    def set(self, timer: Timer) -> None:
        self.timers[timer.key] = timer
        self.cleared.discard(timer.key)

    def clear(self, incident_id: int, kind: str) -> None:
        self.timers.pop((incident_id, kind), None)
        self.cleared.add((incident_id, kind))


# ---------------------------------------------------------------- targets


def resolve_level(
    level: Level, directory: Directory, now: datetime
) -> tuple[list[tuple[str, str]], list[str]]:
    """The people a level reaches now, each with why; and why others are empty."""
    chosen: dict[str, str] = {}
    empty: list[str] = []
    for target in level.targets:
        found = _resolve_target(target, directory, now)
        if not found:
            empty.append(_nobody(target))
        for user, why in found:
            chosen.setdefault(user, why)
    return list(chosen.items()), empty


def _resolve_target(target: Target, directory: Directory, now: datetime):
    match target.kind:
        case "user":
            return [(target.name, "named in the policy")]
        case "team":
            members = directory.teams.get(target.name, ())
            return [(m, f"member of team {target.name}") for m in members]
        case "schedule":
            found = directory.schedules.get(target.name)
            shift = on_call(found, directory.overrides, now) if found else None
            if shift is None:
                return []
            return [(shift.user, f"on call in schedule {target.name}, {shift.source}")]
    return []


def _nobody(target: Target) -> str:
    if target.kind == "schedule":
        return f"nobody is on call in schedule {target.name}"
    return f"{target} has nobody"


# ---------------------------------------------------------------- the climb


@dataclass(frozen=True, slots=True)
class _Climb:
    incident: Incident
    policy: EscalationPolicy
    reason: str
    base: datetime  # the due time the next delay counts from
    now: datetime
    actor: str = "engine"
    late: timedelta = timedelta(0)
    why: str = ""  # said on the level's event, when the reason needs words


def _climb(state: State, climb: _Climb, level: int, repeat: int, steps, directory):
    """Start `level`, skipping empty ones, until someone is reached or it ends."""
    policy = climb.policy
    for _ in range(len(policy.levels) * (policy.repeat + 1) + 1):
        if level >= len(policy.levels):
            if repeat >= policy.repeat:
                _exhaust(state, climb, level, repeat, steps)
                return
            level, repeat = 0, repeat + 1
        people, empty = resolve_level(policy.levels[level], directory, climb.now)
        _record_level(state, climb, level, repeat, people, empty, steps)
        if people:
            due = climb.base + policy.levels[level].delay
            steps.set(
                Timer(climb.incident.id, ESCALATE, due, policy.name, level + 1, repeat)
            )
            return
        level += 1


def _record_level(state, climb: _Climb, level, repeat, people, empty, steps) -> None:
    incident, targets = climb.incident, climb.policy.levels[level].targets
    names = ", ".join(f"{user} ({why})" for user, why in people)
    text = f"level {level + 1}"
    text += f" (repeat {repeat})" if repeat else ""
    text += f": {names}" if people else f": nobody ({'; '.join(empty)}), skipped"
    late = climb.late.total_seconds() if level_is_first(climb, steps) else 0.0
    text += f", late by {human(late)}" if late >= 1 else ""
    text += f", {climb.why}" if climb.why else ""
    entry = state.record(
        steps.effects, incident, "escalated", climb.now, climb.actor, text,
        level=level + 1, repeat=repeat, targets=[str(t) for t in targets],
        reason=climb.reason, policy=climb.policy.name, skipped=not people,
        people=[{"user": u, "why": w} for u, w in people], late_by=round(late, 3),
    )  # fmt: skip
    steps.escalated.add(incident.id)
    for user, why in people:
        steps.notices.append(
            Notice(incident.id, f"{incident.id}-{entry.id}-{user}", user,
                   incident.team, level + 1, repeat, climb.reason, why,
                   urgency_of(incident.severity), climb.now)
        )  # fmt: skip


def level_is_first(climb: _Climb, steps: Steps) -> bool:
    """Lateness belongs to the first level a late timer starts, not to skips.

    A set, not a scan of the step's events: with 1,000 incidents opening in
    one batch the scan was quadratic and held the writer lock for seconds.
    """
    return climb.incident.id not in steps.escalated


def _exhaust(state: State, climb: _Climb, level: int, repeat: int, steps) -> None:
    incident = climb.incident
    passes = repeat + 1
    entry = state.record(
        steps.effects, incident, "escalation_exhausted", climb.now, "engine",
        f"escalation policy {climb.policy.name} exhausted after {passes} "
        f"pass(es): telling team {incident.team or '-'}'s chat room",
        policy=climb.policy.name, passes=passes, team=incident.team,
    )  # fmt: skip
    steps.notices.append(
        Notice(incident.id, f"{incident.id}-{entry.id}-team", None, incident.team,
               0, repeat, "exhausted", "the escalation policy is exhausted",
               urgency_of(incident.severity), climb.now)
    )  # fmt: skip
    steps.set(Timer(incident.id, ESCALATE, None, climb.policy.name, level, repeat))


def urgency_of(severity: str) -> str:
    """`high` wakes people (critical, error); `low` can wait for the day."""
    return "high" if severity in ("critical", "error") else "low"


def human(seconds: float) -> str:
    """`850ms`, `42s`, `10m 2s`, `3h 5m`, `1d`: a duration for the timeline."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    whole = int(seconds)
    units = (("d", 86400, "h", 3600), ("h", 3600, "m", 60), ("m", 60, "s", 1))
    for unit, size, sub, subsize in units:
        if whole >= size:
            rest = (whole % size) // subsize
            return f"{whole // size}{unit}" + (f" {rest}{sub}" if rest else "")
    return f"{whole}s"


# ---------------------------------------------------------------- engine inputs


def page(
    state: State,
    incident: Incident,
    reason: str,
    directory: Directory,
    timers: Mapping[TimerKey, Timer],
    now: datetime,
    steps: Steps,
) -> None:
    """An incident should reach a person: start its policy at level 1.

    A triggered incident that is already climbing keeps climbing; an
    acknowledged one has an owner, who sees the change on the timeline.
    """
    if incident.state != "triggered":
        return
    current = steps.timers.get((incident.id, ESCALATE)) or timers.get(
        (incident.id, ESCALATE)
    )
    if current is not None and current.due is not None:
        return
    policy = directory.policy_for(incident.service)
    if policy is None:
        return
    _climb(state, _Climb(incident, policy, reason, now, now), 0, 0, steps, directory)


def acknowledged(
    incident: Incident,
    directory: Directory,
    timers: Mapping[TimerKey, Timer],
    now: datetime,
    steps: Steps,
) -> None:
    """Pause the climb where it is; start the service's ack timeout, if any."""
    current = timers.get((incident.id, ESCALATE))
    if current is not None:
        steps.set(replace(current, due=None))
    if (incident.id, SNOOZE) in timers:
        steps.clear(incident.id, SNOOZE)
    timeout = directory.ack_timeouts.get(incident.service or "")
    if timeout:
        steps.set(Timer(incident.id, ACK_TIMEOUT, now + timeout))


def resolved(incident: Incident, timers: Mapping[TimerKey, Timer], steps) -> None:
    """A resolved incident has nothing left to fire."""
    for kind in KINDS:
        if (incident.id, kind) in timers or (incident.id, kind) in steps.timers:
            steps.clear(incident.id, kind)


def fire(
    state: State,
    incident: Incident | None,
    timer: Timer,
    directory: Directory,
    now: datetime,
    steps: Steps,
) -> None:
    """A timer fell due: climb a level, or return an incident to triggered."""
    if incident is None or not incident.is_open or timer.due is None:
        steps.clear(timer.incident_id, timer.kind)
        return
    late = max(timedelta(0), now - timer.due)
    if timer.kind == ESCALATE:
        _fire_escalation(state, incident, timer, directory, now, late, steps)
        return
    steps.clear(incident.id, timer.kind)
    if incident.state != "acknowledged":
        return
    reason = "ack_timeout" if timer.kind == ACK_TIMEOUT else "snooze_ended"
    _retrigger(state, incident, reason, now, "engine", steps)
    policy = directory.policy_for(incident.service)
    if policy is not None:
        climb = _Climb(incident, policy, reason, timer.due, now, late=late)
        _climb(state, climb, 0, 0, steps, directory)


def _fire_escalation(state, incident, timer, directory, now, late, steps) -> None:
    policy = directory.policies.get(timer.policy) or directory.policy_for(
        incident.service
    )
    if policy is None or incident.state != "triggered":
        steps.set(replace(timer, due=None))
        return
    climb = _Climb(incident, policy, "timeout", timer.due, now, late=late)
    _climb(state, climb, timer.level, timer.repeat, steps, directory)


def delivery_failed(
    state: State,
    incident: Incident,
    result: DeliveryFailure,
    directory: Directory,
    timers: Mapping[TimerKey, Timer],
    now: datetime,
    steps: Steps,
) -> None:
    """Every contact method of a person failed for a level: climb now.

    Nothing happens when the incident was answered or the climb has moved
    on since that level started (its timer names a later level).
    """
    current = steps.timers.get((incident.id, ESCALATE)) or timers.get(
        (incident.id, ESCALATE)
    )
    if incident.state != "triggered" or current is None or current.due is None:
        return
    if (current.level, current.repeat) != (result.level, result.repeat):
        return
    policy = directory.policies.get(current.policy)
    if policy is None:
        return
    why = f"every contact method of {result.user} failed"
    climb = _Climb(incident, policy, "delivery_failed", now, now, why=why)
    _climb(state, climb, current.level, current.repeat, steps, directory)


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """A person no method reached for one level (1-based) of one pass."""

    user: str
    level: int
    repeat: int


def _retrigger(state, incident: Incident, reason: str, now, actor, steps) -> None:
    incident.state = "triggered"
    incident.acknowledged_at = None
    why = {
        "ack_timeout": "acknowledged but not resolved in time",
        "snooze_ended": "the snooze ended",
        "manual": f"escalated by {actor}",
        "reassigned": "reassigned",
    }[reason]
    state.record(
        steps.effects, incident, "unacknowledged", now, actor,
        f"back to triggered: {why}", reason=reason,
    )  # fmt: skip


def due(timers: Mapping[TimerKey, Timer], now: datetime) -> list[Timer]:
    """Timers due at `now`, oldest first: the order they must fire in."""
    found = [t for t in timers.values() if t.due is not None and t.due <= now]
    return sorted(found, key=lambda t: (t.due, t.incident_id, t.kind))


# ---------------------------------------------------------------- commands


def _check(incident: Incident, actor: str, directory: Directory) -> None:
    if actor not in directory.users:
        raise Refused(f"unknown user {actor!r}")
    if not incident.is_open:
        raise Refused(f"incident {incident.id} is resolved")


def escalate(
    state: State,
    incident: Incident,
    actor: str,
    directory: Directory,
    timers: Mapping[TimerKey, Timer],
    now: datetime,
) -> Steps:
    """Start the next level now; an acknowledged incident returns to triggered."""
    _check(incident, actor, directory)
    policy = directory.policy_for(incident.service)
    if policy is None:
        raise Refused(f"service {incident.service} has no escalation policy")
    current = timers.get((incident.id, ESCALATE))
    level, repeat = (current.level, current.repeat) if current else (0, 0)
    if level >= len(policy.levels) and repeat >= policy.repeat:
        level, repeat = 0, 0  # exhausted: a manual escalate starts over
    steps = Steps()
    _stop_waiting(incident, timers, steps)
    if incident.state == "acknowledged":
        _retrigger(state, incident, "manual", now, actor, steps)
    climb = _Climb(incident, policy, "manual", now, now, actor=actor)
    _climb(state, climb, level, repeat, steps, directory)
    return steps


def reassign(
    state: State,
    incident: Incident,
    actor: str,
    user: str,
    directory: Directory,
    timers: Mapping[TimerKey, Timer],
    now: datetime,
) -> Steps:
    """Give the incident to `user`, who is notified and must acknowledge it.

    The climb resumes from where it stood, one level delay from now.
    """
    _check(incident, actor, directory)
    if user not in directory.users:
        raise Refused(f"unknown user {user!r}")
    if incident.owner == user and incident.state == "triggered":
        raise Refused(f"incident {incident.id} is already assigned to {user}")
    steps = Steps()
    _stop_waiting(incident, timers, steps)
    if incident.state == "acknowledged":
        _retrigger(state, incident, "reassigned", now, actor, steps)
    before, incident.owner = incident.owner, user
    entry = state.record(
        steps.effects, incident, "reassigned", now, actor,
        f"reassigned from {before or 'nobody'} to {user} by {actor}",
        before=before, after=user,
    )  # fmt: skip
    steps.notices.append(
        Notice(incident.id, f"{incident.id}-{entry.id}-{user}", user, incident.team,
               0, 0, "reassigned", f"reassigned by {actor}",
               urgency_of(incident.severity), now)
    )  # fmt: skip
    _resume(incident, directory, timers, now, steps)
    return steps


def _resume(incident, directory, timers, now, steps) -> None:
    policy = directory.policy_for(incident.service)
    if policy is None or not policy.levels:
        return
    current = timers.get((incident.id, ESCALATE))
    level, repeat = (current.level, current.repeat) if current else (0, 0)
    delay = policy.levels[min(max(level - 1, 0), len(policy.levels) - 1)].delay
    if level >= len(policy.levels) and repeat >= policy.repeat:
        level, repeat = 0, 0
    steps.set(Timer(incident.id, ESCALATE, now + delay, policy.name, level, repeat))


def _stop_waiting(incident, timers, steps) -> None:
    for kind in (ACK_TIMEOUT, SNOOZE):
        if (incident.id, kind) in timers:
            steps.clear(incident.id, kind)


def snooze(
    state: State,
    incident: Incident,
    actor: str,
    duration: timedelta,
    directory: Directory,
    timers: Mapping[TimerKey, Timer],
    now: datetime,
) -> Steps:
    """Quiet an acknowledged incident; it returns to triggered when it ends."""
    _check(incident, actor, directory)
    if incident.state != "acknowledged":
        raise Refused(f"incident {incident.id} is triggered: acknowledge it first")
    if not timedelta(0) < duration <= MAX_SNOOZE:
        raise Refused(f"a snooze lasts more than 0s and at most {human(86400)}")
    steps = Steps()
    if (incident.id, ACK_TIMEOUT) in timers:
        steps.clear(incident.id, ACK_TIMEOUT)
    until = now + duration
    steps.set(Timer(incident.id, SNOOZE, until))
    state.record(
        steps.effects, incident, "snoozed", now, actor,
        f"snoozed by {actor} for {human(duration.total_seconds())}",
        until=until.isoformat(), seconds=duration.total_seconds(),
    )  # fmt: skip
    return steps
