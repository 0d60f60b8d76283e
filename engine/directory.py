"""The config's schedules and escalation policies as the core's objects.

Also the check that each policy ends in a level that always resolves to
someone, which needs a clock and so lives here rather than in the parser.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from engine.config import (
    WEEKDAYS,
    Config,
    parse_clock,
    parse_duration,
    parse_shift,
    parse_target,
)
from engine.core.escalation import Directory, EscalationPolicy, Level, Target
from engine.core.schedule import Layer, Override, Restriction, Schedule, check


def schedules_of(config: Config) -> dict[str, Schedule]:
    """Every configured schedule, by name."""
    return {name: schedule_of(config, name) for name in config.schedules}


def schedule_of(config: Config, name: str) -> Schedule:
    """One configured schedule; its layers are numbered from 1 in list order."""
    section = config.schedules[name]
    layers = tuple(
        Layer(
            name=layer.name or f"layer {i + 1}",
            members=tuple(layer.members),
            length=parse_shift(layer.shift),
            handoff=parse_clock(layer.handoff),
            start=layer.start,
            restrictions=tuple(
                Restriction(
                    frozenset(WEEKDAYS.index(d) for d in r.days),
                    parse_clock(r.start),
                    parse_clock(r.end),
                )
                for r in layer.restrictions
            ),
            advance_on_restricted=layer.advance_on_restricted,
        )
        for i, layer in enumerate(section.layers)
    )
    return Schedule(name, ZoneInfo(section.timezone), layers)


def policies_of(config: Config) -> dict[str, EscalationPolicy]:
    """Every configured escalation policy, by name."""
    return {
        name: EscalationPolicy(
            name,
            tuple(
                Level(
                    tuple(Target(*parse_target(t)) for t in level.targets),
                    timedelta(seconds=parse_duration(level.delay)),
                )
                for level in policy.levels
            ),
            policy.repeat,
        )
        for name, policy in config.escalation_policies.items()
    }


def directory_of(config: Config, overrides: Iterable[Override] = ()) -> Directory:
    """What escalation needs to find people, with the run-time overrides."""
    services = config.services.items()
    return Directory(
        users=frozenset(config.users),
        teams={name: tuple(team.members) for name, team in config.teams.items()},
        schedules=schedules_of(config),
        policies=policies_of(config),
        service_policies={
            n: s.escalation_policy for n, s in services if s.escalation_policy
        },
        ack_timeouts={
            n: timedelta(seconds=parse_duration(s.ack_timeout))
            for n, s in services
            if s.ack_timeout
        },
        overrides=tuple(overrides),
        high_urgency={
            n: frozenset(s.high_urgency)
            for n, s in services
            if s.high_urgency is not None
        },
    )


def unreachable_policies(config: Config, now: datetime, weeks: int = 26) -> list[str]:
    """Policies whose last level can resolve to nobody, named by path.

    A user always resolves, a team with members always does, a schedule only
    if it has no gap over the next `weeks` (overrides only ever add people).
    """
    directory = directory_of(config)
    problems = []
    for name, policy in directory.policies.items():
        if not policy.levels:
            continue
        last = len(policy.levels) - 1
        why = _why_empty(policy.levels[last], directory, now, weeks)
        if why:
            problems.append(
                f"escalation_policies.{name}.levels[{last}]: the last level can "
                f"resolve to nobody ({why}); end with a user, a team or a "
                "schedule without gaps"
            )
    return problems


def _why_empty(level: Level, directory: Directory, now: datetime, weeks: int):
    reasons = []
    for target in level.targets:
        if target.kind == "user":
            return None
        if target.kind == "team":
            if directory.teams.get(target.name):
                return None
            reasons.append(f"team {target.name} has no members")
            continue
        schedule = directory.schedules[target.name]
        report = check(schedule, (), now, now + timedelta(weeks=weeks), timedelta.max)
        if not report.gaps:
            return None
        start = report.gaps[0][0].astimezone(schedule.zone)
        reasons.append(
            f"schedule {target.name} has nobody on call from {start:%Y-%m-%d %H:%M %Z}"
        )
    return "; ".join(reasons) or "no targets"
