"""The incident state machine: alerts open, join, update and resolve incidents.

`triggered` -> `acknowledged` -> `resolved`. Each step mutates the `State` it
is given and returns the `Effects` to store and publish; it reads no clock
(`now` is passed in) and does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bus.wire import MANUAL_CLOSE_REASONS, Alert
from engine.core import grouping, severity
from engine.core.model import AlertRecord, Effects, Incident, Page, State
from engine.core.routing import Router


class Refused(Exception):
    """A command that does not apply; the message says why, for the person."""


@dataclass(frozen=True, slots=True)
class Policy:
    """What the core needs from the config."""

    router: Router
    group_window: float
    users: frozenset[str]


def ingest(
    state: State,
    alert: Alert,
    now: datetime,
    policy: Policy,
    effects: Effects | None = None,
) -> Effects:
    """Apply one alert: a new problem, a repeat, a change or a recovery.

    Pass `effects` to gather a whole batch's changes in one place.
    """
    effects = effects if effects is not None else Effects()
    key = (alert.integration, alert.dedup_key)
    incident_id = state.open_by_alert.get(key)
    if alert.status == "resolved":
        if incident_id is None:
            effects.orphans.append(alert)
        else:
            _recover(state, state.incidents[incident_id], key, alert, now, effects)
    elif incident_id is not None:
        _repeat(state, state.incidents[incident_id], key, alert, now, effects)
    else:
        _add(state, alert, now, policy, effects)
    return effects


def _record_of(alert: Alert, incident_id: int, now: datetime) -> AlertRecord:
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


def _add(
    state: State, alert: Alert, now: datetime, policy: Policy, effects: Effects
) -> None:
    labels = {**alert.labels, "severity": alert.severity or severity.DEFAULT_SEVERITY}
    destination = policy.router.route(alert.integration, labels)
    key = grouping.group_key(alert, destination.service)
    incident = grouping.find_group(state, key, now, policy.group_window)
    if incident is None:
        incident = _open(state, alert, key, destination, now, effects)
    record = _record_of(alert, incident.id, now)
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
        _set_severity(state, incident, record.severity, now, alert.integration, effects)


def _open(
    state, alert: Alert, key: str, destination, now: datetime, effects
) -> Incident:
    incident = Incident(
        id=state.next_incident_id,
        title=alert.group_title or alert.title or alert.dedup_key,
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
    effects.pages.append(Page(incident.id, "opened", now))
    state.record(
        effects, incident, "routed", now, "engine",
        f"routed to {destination.service} (team {destination.team}) "
        f"by {destination.reason}",
        service=destination.service, team=destination.team, reason=destination.reason,
    )  # fmt: skip
    return incident


def _repeat(
    state, incident: Incident, key, alert: Alert, now, effects: Effects
) -> None:
    record = incident.alerts[key]
    record.count += 1
    record.last_seen_at = now
    effects.touch_repeat(record)
    if alert.annotations:
        # Annotations often carry the current value ("disk 97%"): kept up to
        # date on the alert, but a new value alone is not a timeline event.
        record.annotations = dict(alert.annotations)
    changes = _changes(record, alert)
    if not changes:
        return  # a plain repeat: counted, never paged or put on the timeline
    effects.touch_alert(record)
    before = record.severity
    _apply(record, changes)
    what = ", ".join(f"{k} {v}" for k, v in changes.items())
    state.record(
        effects, incident, "alert_updated", now, alert.integration,
        f"alert {record.title!r}: {what}",
        dedup_key=record.dedup_key, changes=changes, count=record.count,
    )  # fmt: skip
    if record.severity != before:
        _follow_severity(state, incident, now, alert.integration, effects)


def _changes(record: AlertRecord, alert: Alert) -> dict[str, str]:
    """What a repeat changes that a responder should see on the timeline."""
    changes: dict[str, str] = {}
    if record.status == "resolved":
        changes["status"] = "firing"
    if alert.severity and alert.severity != record.severity:
        changes["severity"] = alert.severity
    if alert.title and alert.title != record.title:
        changes["title"] = alert.title
    return changes


def _apply(record: AlertRecord, changes: dict[str, str]) -> None:
    if "status" in changes:
        record.status, record.ends_at = "firing", None
    record.severity = changes.get("severity", record.severity)
    record.title = changes.get("title", record.title)


def _follow_severity(state, incident: Incident, now, actor: str, effects) -> None:
    # Only when an alert's severity changed: a scan of every alert per repeat
    # cost 30% of the engine's time in a 20,000-alert storm.
    top = severity.highest(a.severity for a in incident.alerts.values())
    if top != incident.severity:
        _set_severity(state, incident, top, now, actor, effects)


def _set_severity(
    state, incident: Incident, top: str, now, actor: str, effects
) -> None:
    before, incident.severity = incident.severity, top
    if severity.rank(top) < severity.rank(before) and incident.state != "resolved":
        effects.pages.append(Page(incident.id, "severity_raised", now))
    state.record(
        effects, incident, "severity_changed", now, actor,
        f"severity {before} -> {top}", before=before, after=top,
    )  # fmt: skip


def _recover(
    state, incident: Incident, key, alert: Alert, now, effects: Effects
) -> None:
    record = incident.alerts[key]
    record.last_seen_at = now
    effects.touch_alert(record)
    if record.status == "resolved":
        return
    record.status = "resolved"
    record.ends_at = alert.ends_at or now
    state.record(
        effects, incident, "alert_resolved", now, alert.integration,
        f"alert {record.title!r} recovered", dedup_key=record.dedup_key,
    )  # fmt: skip
    if all(a.status == "resolved" for a in incident.alerts.values()):
        _close(state, incident, "auto", "auto", now, effects, "every alert recovered")


def _close(state, incident: Incident, reason: str, actor: str, now, effects, why: str):
    incident.state = "resolved"
    incident.resolved_at = now
    incident.close_reason = reason
    state.close(incident)
    state.record(
        effects, incident, "resolved", now, actor,
        f"resolved ({reason}): {why}", close_reason=reason,
    )  # fmt: skip


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
    _close(state, incident, reason, actor, now, effects, f"by {actor}")
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
