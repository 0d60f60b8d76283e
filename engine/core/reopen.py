"""Reopen: a resolved incident fires again within the reopen window.

Only an alert that recovered can fire again: the repeat of an alert that was
still firing when a person resolved its incident starts a new incident, as
does any firing after the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core import incident

if TYPE_CHECKING:
    from engine.core.step import Step


def stage(step: Step) -> None:
    """Pipeline stage: bring a recently resolved incident back, triggered."""
    noise = step.state.noise
    owner = noise.resolved.get(noise.resolved_by_alert.get(step.key, 0))
    if owner is None or owner.is_open or owner.resolved_at is None:
        return
    record = owner.alerts.get(step.key)
    if record is None or record.status != "resolved":
        return
    if (step.now - owner.resolved_at).total_seconds() > step.policy.reopen_window:
        return
    incident.reopen(step.state, owner, step.alert.integration, step.now, step.effects)
    record.status, record.ends_at, record.hold, record.paged = (
        "firing",
        None,
        None,
        False,
    )
    record.count += 1
    record.last_seen_at = step.now
    step.effects.touch_alert(record)
    step.state.record(
        step.effects, owner, "alert_updated", step.now, step.alert.integration,
        f"alert {record.title!r}: status firing", dedup_key=record.dedup_key,
        changes={"status": "firing"}, count=record.count,
    )  # fmt: skip
    step.incident, step.record = owner, record


def prune(state, now, window: float) -> None:
    """Forget resolved incidents once their reopen window is over."""
    noise = state.noise
    while noise.resolved:
        owner = next(iter(noise.resolved.values()))
        if (now - owner.resolved_at).total_seconds() <= window:
            break
        del noise.resolved[owner.id]
    while noise.resolved_by_alert:
        key, incident_id = next(iter(noise.resolved_by_alert.items()))
        if incident_id in noise.resolved:
            break
        del noise.resolved_by_alert[key]
