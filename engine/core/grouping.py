"""Grouping: which open incident an alert joins, if any.

Per route, `group_by` names the labels whose values make a group (`...` for
every label, the Alertmanager way); with none, an Alertmanager group stays
one incident and other alerts group by service. A group made here takes new
alerts for `window` seconds after its incident opened; a group of any kind
takes at most `max_alerts`, after which its next alert starts a new incident.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bus.wire import Alert
from engine.core.model import Incident, State
from engine.core.policy import GroupRule

if TYPE_CHECKING:
    from engine.core.step import Step

EVERY_LABEL = "..."


def group_key(
    alert: Alert, service: str, rule: GroupRule | None = None, route: int | None = None
) -> str:
    """A route's `group_by` first, then Alertmanager's own group, then service."""
    if rule is not None and rule.group_by:
        names = sorted(alert.labels) if EVERY_LABEL in rule.group_by else rule.group_by
        values = ",".join(f"{n}={alert.labels.get(n, '')}" for n in names)
        return f"route|{route}|{service}|{values}"
    if alert.group_key:
        return f"group|{alert.integration}|{alert.group_key}"
    return f"service|{service}"


def find_group(
    state: State, key: str, now: datetime, rule: GroupRule
) -> Incident | None:
    """The open incident of a group, while it is young and small enough to join.

    A source group (Alertmanager's) has no window: it stays one incident for
    as long as it is open.
    """
    incident_id = state.open_by_group.get(key)
    if incident_id is None:
        return None
    incident = state.incidents[incident_id]
    if rule.max_alerts and incident.alert_count >= rule.max_alerts:
        return None
    age = (now - incident.created_at).total_seconds()
    if not key.startswith("group|") and age > rule.window:
        return None
    return incident


def stage(step: Step) -> None:
    """Pipeline stage: the alert's group, and the incident it would join."""
    if step.record is not None or step.destination is None:
        return  # reopened: it belongs to its incident already
    route = step.destination.route
    step.rule = step.policy.group_rule(route)
    step.group_key = group_key(step.alert, step.destination.service, step.rule, route)
    step.incident = find_group(step.state, step.group_key, step.now, step.rule)


def is_full(incident: Incident, rule: GroupRule | None) -> bool:
    """True when the incident has just taken its group's last alert."""
    return bool(rule and rule.max_alerts and incident.alert_count == rule.max_alerts)
