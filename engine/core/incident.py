"""The incident state machine: open, add alerts, change severity, close, reopen.

`triggered` -> `acknowledged` -> `resolved`, and back to `triggered` when a
resolved incident's alert fires again within the reopen window. Each step
mutates the `State` it is given and appends to the `Effects`; it reads no
clock (`now` is passed in) and does no I/O. Which alerts reach these steps,
and which of them page, is the pipeline's business (`engine.core.pipeline`).
"""

from __future__ import annotations

from datetime import datetime

from bus.wire import MANUAL_CLOSE_REASONS, Alert
from engine.core import severity
from engine.core.model import AlertRecord, Effects, Incident, State
from engine.core.policy import Policy
from engine.core.routing import Destination

__all__ = ["Policy", "Refused", "acknowledge", "add_note", "ingest", "resolve"]


class Refused(Exception):
    """A command that does not apply; the message says why, for the person."""


def ingest(
    state: State,
    alert: Alert,
    now: datetime,
    policy: Policy,
    effects: Effects | None = None,
) -> Effects:
    """Apply one alert through every stage of the pipeline (see `pipeline`)."""
    from engine.core import pipeline  # the pipeline's stages build on this module

    return pipeline.ingest(state, alert, now, policy, effects)


def record_of(alert: Alert, incident_id: int, now: datetime) -> AlertRecord:
    """A new alert record for an incident, firing since `now`."""
    return AlertRecord(
        incident_id=incident_id,
        integration=alert.integration,
        source=alert.source,
        dedup_key=alert.dedup_key,
        status="firing",
        severity=alert.severity or severity.DEFAULT_SEVERITY,
        title=alert.title or alert.dedup_key,
        labels=dict(alert.labels),
        annotations=dict(alert.annotations),
        starts_at=alert.starts_at,
        ends_at=None,
        last_seen_at=now,
    )


def open_incident(
    state: State,
    alert: Alert,
    key: str,
    destination: Destination,
    now: datetime,
    effects: Effects,
    title: str | None = None,
) -> Incident:
    """A new triggered incident for `alert`, opened and routed on the timeline."""
    incident = Incident(
        id=state.next_incident_id,
        title=title or alert.group_title or alert.title or alert.dedup_key,
        severity=alert.severity or severity.DEFAULT_SEVERITY,
        state="triggered",
        service=destination.service,
        team=destination.team,
        group_key=key,
        created_at=now,
    )
    state.add(incident)
    state.record(
        effects, incident, "opened", now, alert.integration,
        f"opened: {incident.title}", title=incident.title, severity=incident.severity,
    )  # fmt: skip
    state.record(
        effects, incident, "routed", now, "engine",
        f"routed to {destination.service} (team {destination.team}) "
        f"by {destination.reason}",
        service=destination.service, team=destination.team, reason=destination.reason,
    )  # fmt: skip
    return incident


def add_alert(
    state: State, incident: Incident, alert: Alert, now: datetime, effects: Effects
) -> tuple[AlertRecord, bool]:
    """Put a new alert on an incident; True when it raised the severity."""
    record = record_of(alert, incident.id, now)
    incident.alerts[record.key] = record
    state.open_by_alert[record.key] = incident.id
    effects.touch_alert(record)
    state.record(
        effects, incident, "alert_added", now, alert.integration,
        f"{record.severity} alert {record.title!r} joined",
        dedup_key=record.dedup_key, integration=record.integration,
        severity=record.severity, title=record.title,
    )  # fmt: skip
    if severity.rank(record.severity) < severity.rank(incident.severity):
        return record, set_severity(
            state, incident, record.severity, now, alert.integration, effects
        )
    return record, False


def follow_severity(
    state: State, incident: Incident, now: datetime, actor: str, effects: Effects
) -> bool:
    """Take the highest severity of the alerts; True when that raised it."""
    # Only when an alert's severity changed: a scan of every alert per repeat
    # cost 30% of the engine's time in a 20,000-alert storm.
    top = severity.highest(a.severity for a in incident.alerts.values())
    if top == incident.severity:
        return False
    return set_severity(state, incident, top, now, actor, effects)


def set_severity(
    state: State, incident: Incident, top: str, now, actor: str, effects
) -> bool:
    """Change the incident's severity on the timeline; True when raised."""
    before, incident.severity = incident.severity, top
    state.record(
        effects, incident, "severity_changed", now, actor,
        f"severity {before} -> {top}", before=before, after=top,
    )  # fmt: skip
    return severity.rank(top) < severity.rank(before)


def close(state, incident: Incident, reason: str, actor: str, now, effects, why: str):
    """Resolve the incident and remember it for the reopen window."""
    incident.state = "resolved"
    incident.resolved_at = now
    incident.close_reason = reason
    incident.page_due = None
    state.close(incident)
    noise = state.noise
    noise.resolved.pop(incident.id, None)
    noise.resolved[incident.id] = incident
    for key in incident.alerts:
        noise.resolved_by_alert.pop(key, None)
        noise.resolved_by_alert[key] = incident.id
    state.record(
        effects, incident, "resolved", now, actor,
        f"resolved ({reason}): {why}", close_reason=reason,
    )  # fmt: skip


def reopen(state: State, incident: Incident, actor: str, now, effects) -> None:
    """A resolved incident is triggered again, and found again by its alerts."""
    incident.state = "triggered"
    incident.resolved_at = None
    incident.close_reason = None
    incident.acknowledged_at = None
    incident.paged = False
    state.noise.resolved.pop(incident.id, None)
    newer = state.open_by_group.get(incident.group_key or "")
    state.add(incident)
    if newer is not None:  # a newer incident of the group keeps taking its alerts
        state.open_by_group[incident.group_key or ""] = newer
    state.record(effects, incident, "reopened", now, actor, "reopened: fired again")


# ---------------------------------------------------------------- commands


def _check_actor(actor: str, policy: Policy) -> None:
    if actor not in policy.users:
        raise Refused(f"unknown user {actor!r}")


def acknowledge(
    state: State, incident: Incident, actor: str, now, policy: Policy
) -> Effects:
    """A person takes a triggered incident and becomes its owner."""
    _check_actor(actor, policy)
    if incident.state == "resolved":
        raise Refused(f"incident {incident.id} is resolved")
    if incident.state == "acknowledged":
        raise Refused(
            f"incident {incident.id} is already acknowledged by {incident.owner}"
        )
    effects = Effects()
    incident.state = "acknowledged"
    incident.acknowledged_at = now
    incident.owner = actor
    state.record(
        effects, incident, "acknowledged", now, actor, f"acknowledged by {actor}"
    )
    return effects


def resolve(
    state: State,
    incident: Incident,
    actor: str,
    reason: str,
    note: str | None,
    now,
    policy,
) -> Effects:
    """A person closes the incident with a close reason (and maybe a note)."""
    _check_actor(actor, policy)
    if reason not in MANUAL_CLOSE_REASONS:
        raise Refused(f"close reason must be one of {', '.join(MANUAL_CLOSE_REASONS)}")
    if incident.state == "resolved":
        raise Refused(f"incident {incident.id} is already resolved")
    effects = Effects()
    if note:
        state.record(effects, incident, "note", now, actor, note)
    if incident.owner is None:
        incident.owner = actor
    close(state, incident, reason, actor, now, effects, f"by {actor}")
    return effects


def add_note(
    state: State, incident: Incident, actor: str, text: str, now, policy
) -> Effects:
    """A person writes on the timeline, in any state."""
    _check_actor(actor, policy)
    if not text.strip():
        raise Refused("a note needs some text")
    effects = Effects()
    state.record(effects, incident, "note", now, actor, text.strip())
    return effects
