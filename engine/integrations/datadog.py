"""Datadog's Webhooks integration, with the body template warroom documents.

Datadog has no fixed body: the template in the Webhooks tile decides it (see
docs/integrations.md). The dedup key is `alert_id` plus `alert_scope`, since a
multi-alert monitor sends one `alert_id` for every group. `alert_transition`
Recovered is the only recovery. Severity is `alert_priority` (P1-P5), else
`alert_type`. `date` is epoch milliseconds. Unquoted variables arrive as
numbers, and a variable Datadog did not fill is left as `$NAME`: both are read.
"""

from __future__ import annotations

import re
from typing import Any

from bus.wire import Alert
from engine.integrations.base import (
    ParseContext,
    decode_json,
    new_alert,
    reject,
    require_object,
    text,
    time_field,
)

_VARIABLE = re.compile(r"^\$[A-Z][A-Z0-9_]*$")  # a template variable left unfilled
_PRIORITIES = {
    "p1": "critical",
    "p2": "error",
    "p3": "warning",
    "p4": "info",
    "p5": "info",
}
_TYPES = {"error": "error", "warning": "warning", "info": "info", "success": "info"}
_NO_DATA = {"no data", "re-no data"}


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield the monitor group's alert: a trigger, a repeat or its recovery."""
    raw = require_object(decode_json(body), "body")
    fields = {key: _value(value) for key, value in raw.items()}
    resolved = _is_recovery(fields)
    labels = _labels(fields)
    at = time_field(fields.get("date"), "date")
    return [
        new_alert(
            context,
            "datadog",
            _dedup_key(fields),
            "resolved" if resolved else "firing",
            severity=_severity(fields),  # type: ignore[arg-type]
            title=fields.get("alert_title") or fields.get("event_title"),
            labels=labels,
            annotations=_annotations(fields),
            starts_at=None if resolved else at,
            ends_at=(at or context.received_at) if resolved else None,
        )
    ]


def _value(value: Any) -> str:
    shown = text(value).strip()
    return "" if _VARIABLE.match(shown) else shown


def _dedup_key(fields: dict[str, str]) -> str:
    monitor = fields.get("alert_id") or fields.get("aggreg_key")
    if not monitor:
        raise reject(
            "alert_id", "empty, and no aggreg_key: put $ALERT_ID in the template"
        )
    return f"{monitor}|{fields.get('alert_scope', '')}"


def _is_recovery(fields: dict[str, str]) -> bool:
    transition = fields.get("alert_transition", "").lower()
    if transition:
        return transition == "recovered"
    return fields.get("alert_type", "").lower() == "success"


def _severity(fields: dict[str, str]) -> str:
    priority = _PRIORITIES.get(fields.get("alert_priority", "").lower())
    return priority or _TYPES.get(fields.get("alert_type", "").lower(), "error")


def _labels(fields: dict[str, str]) -> dict[str, str]:
    labels = _tags(fields.get("tags", ""))
    if fields.get("hostname"):
        labels["host"] = fields["hostname"]
    if fields.get("alert_transition", "").lower() in _NO_DATA:
        labels["no_data"] = "true"
    return labels


def _tags(tags: str) -> dict[str, str]:
    """`env:prod,service:checkout`: key:value pairs; a bare tag has no value."""
    labels: dict[str, str] = {}
    for tag in tags.split(","):
        name, sep, value = tag.strip().partition(":")
        if sep and name and value:
            labels[name] = f"{labels[name]},{value}" if name in labels else value
    return labels


def _annotations(fields: dict[str, str]) -> dict[str, str]:
    names = {
        "message": "event_msg",
        "status": "alert_status",
        "metric": "alert_metric",
        "link": "link",
        "transition": "alert_transition",
    }
    return {key: fields[name] for key, name in names.items() if fields.get(name)}
