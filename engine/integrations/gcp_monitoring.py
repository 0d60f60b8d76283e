"""Google Cloud Monitoring's webhook notification channel (version 1.2).

The dedup key is `incident.incident_id`, the same while open and once
closed. `state` closed (any case), with `ended_at`, is the recovery; an
acknowledged incident is ignored. Severity is the policy's (CRITICAL, ERROR,
WARNING), else the policy's user label `severity`, else error. Times are
epoch seconds; `ended_at` is null while open.
"""

from __future__ import annotations

from typing import Any

from bus.wire import Alert
from engine.core.severity import normalize
from engine.integrations.base import (
    ParseContext,
    decode_json,
    new_alert,
    reject,
    require_object,
    shown,
    text,
    time_field,
)

_STATES = {"open": "firing", "closed": "resolved"}
_SEVERITIES = {"critical": "critical", "error": "error", "warning": "warning"}


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield the incident's alert; an acknowledgment is ignored."""
    data = require_object(decode_json(body), "body")
    incident = require_object(data.get("incident"), "incident")
    incident_id = text(incident.get("incident_id")).strip()
    if not incident_id:
        raise reject("incident.incident_id", "empty: nothing identifies it")
    state = text(incident.get("state")).strip().lower()
    if state == "acknowledged":
        return context.ignore("an acknowledged incident: nothing changed")
    if state not in _STATES:
        raise reject(
            "incident.state", f"expected 'open' or 'closed', got {shown(state)}"
        )
    return [_alert(incident, incident_id, _STATES[state], context)]


def _alert(incident: dict, incident_id: str, status: str, context) -> Alert:
    policy_labels = _mapping(incident.get("policy_user_labels"))
    ended = time_field(incident.get("ended_at"), "incident.ended_at")
    return new_alert(
        context,
        "gcp_monitoring",
        incident_id,
        status,  # type: ignore[arg-type]
        severity=_severity(incident, policy_labels),  # type: ignore[arg-type]
        title=_documentation(incident).get("subject") or incident.get("policy_name"),
        labels=_labels(incident, policy_labels),
        annotations=_annotations(incident),
        starts_at=time_field(incident.get("started_at"), "incident.started_at"),
        ends_at=(ended or context.received_at) if status == "resolved" else None,
    )


def _severity(incident: dict, policy_labels: dict[str, str]) -> str:
    named = _SEVERITIES.get(text(incident.get("severity")).strip().lower())
    return named or normalize(policy_labels.get("severity"))


def _labels(incident: dict, policy_labels: dict[str, str]) -> dict[str, str]:
    labels = dict(policy_labels)
    metadata = _mapping(incident.get("metadata"))
    labels.update(_mapping(metadata.get("user_labels")))
    if text(incident.get("resource_display_name")):
        labels["host"] = text(incident["resource_display_name"])
    if text(incident.get("scoping_project_id")):
        labels.setdefault("project", text(incident["scoping_project_id"]))
    return labels


def _annotations(incident: dict) -> dict[str, str]:
    return {
        "summary": text(incident.get("summary")),
        "documentation": text(_documentation(incident).get("content")),
        "condition": text(incident.get("condition_name")),
        "url": text(incident.get("url")),
    }


def _documentation(incident: dict) -> dict[str, str]:
    # Test notifications have been seen with a documentation that is not an object.
    return _mapping(incident.get("documentation"))


def _mapping(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): text(v) for k, v in value.items()}
