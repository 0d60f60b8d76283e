"""Zabbix's webhook media type: the media type's parameters as one JSON object.

Zabbix has no fixed body: the media type's script posts its parameters, so
every value is a string, and a macro that does not apply (`{EVENT.RECOVERY.ID}`
in a problem) arrives as its own literal text, which is read as absent. The
dedup key is `event_id` ({EVENT.ID}), which a recovery still carries: the
recovery event's own id is only recorded. `event_value` 1 is a problem, 0 its
recovery; an update (acknowledgment, comment, severity change) or a cancelled
escalation is not a new problem and is ignored. Dates and times are the
Zabbix server's local time, read in the integration's `timezone`.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import Any

import msgspec

from bus.wire import Alert
from engine.integrations.base import (
    ParseContext,
    PayloadRejected,
    context_zone,
    decode_json,
    new_alert,
    require_object,
    shown,
    text,
    time_field,
)

_MACRO = re.compile(r"^\{[#$?]?[A-Z][A-Z0-9_.]*(?::[^{}]*)?\}$")
_UNKNOWN = "*UNKNOWN*"  # what Zabbix prints for a macro it could not resolve
_SEVERITY_NUMBERS = {
    "0": "info",  # Not classified
    "1": "info",  # Information
    "2": "warning",  # Warning
    "3": "warning",  # Average
    "4": "error",  # High
    "5": "critical",  # Disaster
}
_SEVERITY_NAMES = {
    "not classified": "info",
    "information": "info",
    "warning": "warning",
    "average": "warning",
    "high": "error",
    "disaster": "critical",
}
_STATUS_WORDS = {"PROBLEM", "OK", "RESOLVED", "RECOVERY"}
_NOT_ALERTS = {"1": "discovery", "2": "autoregistration"}


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield the problem or its recovery; an update or cancellation is ignored."""
    raw = require_object(decode_json(body), "body")
    fields = {key: _value(value) for key, value in raw.items()}
    problems: list[str] = []
    event_id = _event_id(raw, fields, problems)
    event_value = _event_value(raw, fields, problems)
    if problems:
        raise PayloadRejected(problems, 422)
    if reason := _ignored(fields, event_value):
        return context.ignore(reason)
    return [_alert(raw, fields, event_id, event_value, context)]


def _value(value: Any) -> str:
    shown = text(value).strip()
    if shown == _UNKNOWN or _MACRO.match(shown):
        return ""
    return shown


def _event_id(raw: dict, fields: dict[str, str], problems: list[str]) -> str:
    event_id = fields.get("event_id", "")
    if not event_id:
        given = text(raw.get("event_id"))
        hint = f" (got {shown(given)}, a macro left unexpanded)" if given else ""
        problems.append(f"event_id: event_id is empty{hint}; map it to {{EVENT.ID}}")
    elif not event_id.isdigit() or int(event_id) == 0:
        problems.append(
            f"event_id: event_id is not a positive integer (got {shown(event_id)})"
        )
    return event_id


def _event_value(raw: dict, fields: dict[str, str], problems: list[str]) -> str:
    value = fields.get("event_value", "")
    if value in ("0", "1"):
        return value
    given = text(raw.get("event_value"))
    hint = ""
    if given.strip().upper() in _STATUS_WORDS:
        hint = " - probably {TRIGGER.STATUS} mapped by mistake"
    elif not given:
        hint = " - missing"
    problems.append(
        f"event_value: event_value must be '0' or '1' (got {shown(given)}{hint}); "
        "map it to {EVENT.VALUE}"
    )
    return value


def _ignored(fields: dict[str, str], event_value: str) -> str | None:
    source = fields.get("event_source", "0")
    if source in _NOT_ALERTS:
        return f"a {_NOT_ALERTS[source]} event is not an alert"
    if event_value == "1" and fields.get("event_update_status") == "1":
        return "a problem update (acknowledgment, comment or severity change)"
    message = f"{fields.get('alert_subject', '')} {fields.get('alert_message', '')}"
    if "escalation cancel" in message.lower():
        return "a cancelled escalation, not a new problem"
    return None


def _alert(
    raw: dict, fields: dict[str, str], event_id: str, value: str, context
) -> Alert:
    zone = context_zone(context)
    resolved = value == "0"
    starts_at = _local_time(fields, "event_date", "event_time", zone)
    ends_at = None
    if resolved:
        recovered = _local_time(
            fields, "event_recovery_date", "event_recovery_time", zone
        )
        ends_at = recovered or context.received_at
    return new_alert(
        context,
        "zabbix",
        event_id,
        "resolved" if resolved else "firing",
        severity=_severity(fields),  # type: ignore[arg-type]
        title=fields.get("event_name") or fields.get("alert_subject"),
        labels=_labels(raw, fields),
        annotations=_annotations(fields),
        starts_at=starts_at,
        ends_at=ends_at,
    )


def _local_time(fields: dict[str, str], date: str, clock: str, zone: tzinfo | None):
    day, at = fields.get(date, ""), fields.get(clock, "")
    if not day:
        return None
    value = f"{day.replace('.', '-')}T{at or '00:00:00'}"
    return time_field(value, f"{date}/{clock}", zone)


def _severity(fields: dict[str, str]) -> str:
    number = fields.get("event_nseverity", "")
    if number in _SEVERITY_NUMBERS:
        return _SEVERITY_NUMBERS[number]
    return _SEVERITY_NAMES.get(fields.get("event_severity", "").lower(), "error")


def _labels(raw: dict, fields: dict[str, str]) -> dict[str, str]:
    labels = _tags(raw.get("event_tags"))
    for label, name in (("host", "host_host"), ("host_name", "host_name")):
        if fields.get(name):
            labels[label] = fields[name]
    if fields.get("host_ip"):
        labels["host_ip"] = fields["host_ip"]
    return labels


def _tags(value: Any) -> dict[str, str]:
    """{EVENT.TAGSJSON} (JSON in a string, or already a list) or {EVENT.TAGS}."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = msgspec.json.decode(value)
        except (msgspec.DecodeError, RecursionError):
            return {}
    pairs: list[tuple[str, str]] = []
    if isinstance(value, list):
        for tag in value:
            if isinstance(tag, dict):
                pairs.append((text(tag.get("tag")), text(tag.get("value"))))
    elif isinstance(value, str) and not _MACRO.match(value.strip()):
        for item in value.split(","):
            name, _, tag_value = item.partition(":")
            pairs.append((name, tag_value))
    return _joined(pairs)


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    # Zabbix allows one tag name several times: keep every value, in order.
    tags: dict[str, list[str]] = {}
    for name, value in pairs:
        name, value = name.strip(), value.strip()
        if name and value not in tags.setdefault(name, []):
            tags[name].append(value)
    return {name: ",".join(v for v in values if v) for name, values in tags.items()}


def _annotations(fields: dict[str, str]) -> dict[str, str]:
    names = {
        "message": "alert_message",
        "opdata": "event_opdata",
        "trigger_id": "trigger_id",
        "recovery_event_id": "event_recovery_id",
        "zabbix_url": "zabbix_url",
    }
    return {key: fields[name] for key, name in names.items() if fields.get(name)}
