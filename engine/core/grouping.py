"""Grouping: which open incident an alert joins, if any."""

from __future__ import annotations

from datetime import datetime

from bus.wire import Alert
from engine.core.model import Incident, State


def group_key(alert: Alert, service: str) -> str:
    """Alertmanager's own group wins; otherwise alerts group by service."""
    if alert.group_key:
        return f"group|{alert.integration}|{alert.group_key}"
    return f"service|{service}"


def find_group(state: State, key: str, now: datetime, window: float) -> Incident | None:
    """The open incident of a group, while it is young enough to join.

    A source group (Alertmanager's) stays one incident for as long as it is
    open; a service group takes new alerts only for `window` seconds after
    it opened, after which a new incident starts.
    """
    incident_id = state.open_by_group.get(key)
    if incident_id is None:
        return None
    incident = state.incidents[incident_id]
    if (
        key.startswith("service|")
        and (now - incident.created_at).total_seconds() > window
    ):
        return None
    return incident
