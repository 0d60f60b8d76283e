"""The pipeline: every alert passes the same stages, each one small module.

A stage takes the `Step` (the alert, the state, `now`, the policy and the
effects gathered so far) and refines it: it may finish the alert (`done`),
pick its incident, or hold it back from paging with a reason. The last
stage puts the alert on its incident and pages or records why not. Adding
a stage means adding a module with a `stage(step)` and a line below.

Timers (group_wait, a silence's warning and end, a maintenance window's
end) come back from the shell through `fire`, with the time they fire.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bus.wire import Alert
from engine.core import (
    dedup,
    flapping,
    grouping,
    inhibit,
    maintenance,
    order,
    paging,
    reopen,
    routing,
    severity,
    silence,
    storm,
)
from engine.core.model import Effects, State, Timer
from engine.core.policy import Policy
from engine.core.step import Step

Stage = Callable[[Step], None]

STAGES: tuple[Stage, ...] = (
    order.stage,  # a firing older than its own recovery does nothing
    dedup.stage,  # repeats and recoveries of alerts open incidents hold
    reopen.stage,  # a recovered alert fires again within the reopen window
    routing.stage,  # service and team
    grouping.stage,  # the incident it would join
    flapping.stage,  # holds: the first that holds gives the reason
    maintenance.stage,
    silence.stage,
    inhibit.stage,
    storm.stage,  # a storm's new problems join one incident
    paging.stage,  # join or open, then page or record why not
)


def ingest(
    state: State,
    alert: Alert,
    now: datetime,
    policy: Policy,
    effects: Effects | None = None,
    stages: tuple[Stage, ...] = STAGES,
) -> Effects:
    """Apply one alert; pass `effects` to gather a whole batch's changes."""
    effects = effects if effects is not None else Effects()
    labels = {**alert.labels, "severity": alert.severity or severity.DEFAULT_SEVERITY}
    key = (alert.integration, alert.dedup_key)
    step = Step(
        state, alert, now, policy, effects, key, order.event_time(alert, now), labels
    )
    for run in stages:
        run(step)
        if step.done:
            break
    prune(state, now, policy)
    return effects


def prune(state: State, now: datetime, policy: Policy) -> None:
    """Forget what the stages no longer need (each list is in time order)."""
    reopen.prune(state, now, policy.reopen_window)
    order.prune(state.noise.recovered, now)
    flapping.prune(state.noise, now)


def fire(
    state: State,
    timer: Timer,
    now: datetime,
    policy: Policy,
    effects: Effects | None = None,
) -> Effects:
    """Run a timer the shell kept until it was due."""
    effects = effects if effects is not None else Effects()
    match timer.kind:
        case "group_wait":
            paging.fire_group_wait(state, int(timer.ref), now, effects)
        case "silence_expiring":
            silence.warn(state, int(timer.ref), now, effects)
        case "silence_ended":
            silence.ended(state, int(timer.ref), now, policy, effects)
        case "maintenance_ended":
            why = f"maintenance window of {timer.ref} ended"
            ref = f"maintenance:{timer.ref}"
            paging.release(state, ref, "maintenance_ended", now, effects, why)
    return effects


def restore(state: State, policy: Policy, silences: list) -> list[Timer]:
    """After loading open incidents and active silences: indexes and timers."""
    timers: list[Timer] = []
    for found in silences:
        state.noise.silences[found.id] = found
        timers.extend(silence.timers_of(found, policy))
    ids = [found.id for found in silences]
    state.noise.next_silence_id = max([state.noise.next_silence_id - 1, *ids]) + 1
    inhibit.rebuild(state, policy)
    for incident in state.incidents.values():
        if incident.page_due is not None and incident.is_open:
            timers.append(Timer(incident.page_due, "group_wait", str(incident.id)))
    return timers


__all__ = ["STAGES", "Stage", "fire", "ingest", "restore"]
