"""Flapping: an alert that keeps changing state pages once, then is muted.

Every firing and every recovery of a dedup key is a change. The change that
makes `changes` of them within `window` marks the alert flapping; from then
on its firings are recorded but do not page, until it has been stable (no
change at all) for `mute`. The defaults, 4 changes in 60 minutes muted for
120 minutes, are Flashduty's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.core.model import AlertKey, NoiseState
    from engine.core.step import Step


def note_change(step: Step, service: str) -> None:
    """Count a state change of the step's alert; mark it flapping when due."""
    rule = step.policy.flap_rule(service)
    if rule is None or rule.changes <= 0:
        return
    noise, key = step.state.noise, step.key
    window = timedelta(seconds=rule.window)
    times = [t for t in noise.changes.pop(key, ()) if step.now - t < window]
    times.append(step.now)
    noise.changes[key] = times
    if len(times) >= rule.changes or muted_until(noise, key, step.now):
        noise.flapping_until.pop(key, None)
        noise.flapping_until[key] = step.now + timedelta(seconds=rule.mute)


def muted_until(noise: NoiseState, key: AlertKey, now: datetime) -> datetime | None:
    """The end of the alert's mute, while it is flapping."""
    until = noise.flapping_until.get(key)
    return until if until is not None and now < until else None


def stage(step: Step) -> None:
    """Pipeline stage: count this firing, and hold it while the alert flaps."""
    service = step.destination.service if step.destination else ""
    if step.record is not None:
        service = step.state.incidents[step.record.incident_id].service or ""
    note_change(step, service)
    until = muted_until(step.state.noise, step.key, step.now)
    if until is None:
        return
    changes = len(step.state.noise.changes.get(step.key, ()))
    step.held(
        "flapping", "flapping",
        f"flapping: {changes} changes recently, muted until {until:%Y-%m-%d %H:%M}Z "
        "unless stable", f"flapping:{step.key[0]}|{step.key[1]}",
    )  # fmt: skip


def prune(noise: NoiseState, now: datetime) -> None:
    """Forget mutes that ended and change lists a day old (both in time order)."""
    while noise.flapping_until:
        key, until = next(iter(noise.flapping_until.items()))
        if until > now:
            break
        del noise.flapping_until[key]
    while noise.changes:
        key, times = next(iter(noise.changes.items()))
        if now - times[-1] < timedelta(days=1):
            break
        del noise.changes[key]
