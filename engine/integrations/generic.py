"""warroom's own JSON alert (`oncall.generic/v1`) for internal scripts.

Fields: `source`, `check`, `state` (problem | ok), `severity` (one of the
four), `summary`, `ts` (epoch seconds or milliseconds, or ISO-8601 with an
offset); optional `host`, `service`, `details`, `labels` and `dedup_key`,
which wins over the default key `source|check|host`. A body is one object or
an array of them.
"""

from __future__ import annotations

from typing import Any

from bus.wire import Alert
from engine.core.severity import SEVERITIES
from engine.integrations.base import (
    MAX_TITLE,
    ParseContext,
    PayloadRejected,
    clean_labels,
    clean_text,
    decode_json,
    parse_time,
)

_REQUIRED = ("source", "check", "state", "severity", "summary", "ts")
_STATES = {"problem": "firing", "ok": "resolved"}


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield one alert per object; every bad field of every object is named."""
    data = decode_json(body)
    items = data if isinstance(data, list) else [data]
    problems: list[str] = []
    alerts = []
    for i, item in enumerate(items):
        path = f"[{i}]." if isinstance(data, list) else ""
        alert = _alert(item, path, context, problems)
        if alert is not None:
            alerts.append(alert)
    if problems:
        raise PayloadRejected(problems, status=422)
    return alerts


def _alert(
    item: Any, path: str, context: ParseContext, problems: list[str]
) -> Alert | None:
    if not isinstance(item, dict):
        problems.append(f"{path or 'body'}: expected an object, got {_kind(item)}")
        return None
    before = len(problems)
    for name in _REQUIRED:
        if name not in item:
            problems.append(f"{path}{name}: missing required field '{name}'")
    for name in (
        "source",
        "check",
        "summary",
        "host",
        "service",
        "details",
        "dedup_key",
    ):
        if name in item and item[name] is not None and not isinstance(item[name], str):
            problems.append(f"{path}{name}: expected a string, got {_kind(item[name])}")
    state = item.get("state")
    if "state" in item and state not in _STATES:
        problems.append(f"{path}state: state must be 'problem' or 'ok' (got {state!r})")
    severity = item.get("severity")
    if "severity" in item and severity not in SEVERITIES:
        problems.append(
            f"{path}severity: severity must be one of critical|error|warning|info "
            f"(got {_kind(severity)} {severity!r})"
        )
    at = _time(item, path, problems)
    labels = _labels(item, path, problems)
    if len(problems) > before:
        return None
    return _build(item, labels, at, context, path, problems)


def _build(item, labels, at, context, path, problems) -> Alert | None:
    host = item.get("host") or ""
    dedup_key = item.get("dedup_key") or "|".join((item["source"], item["check"], host))
    if not item["source"] or not item["check"]:
        problems.append(f"{path}check: source and check must not be empty")
        return None
    if host:
        labels["host"] = clean_text(host, 256)
    if item.get("service"):
        labels["service"] = clean_text(item["service"], 256)
    labels.setdefault("check", clean_text(item["check"], 256))
    status = _STATES[item["state"]]
    details = clean_text(item.get("details") or "")
    return Alert(
        integration=context.integration,
        source="generic",
        dedup_key=clean_text(dedup_key, 255),
        status=status,  # type: ignore[arg-type]
        severity=item["severity"],
        title=clean_text(item["summary"] or item["check"], MAX_TITLE),
        labels=labels,
        annotations={"details": details} if details else {},
        starts_at=at if status == "firing" else None,
        ends_at=at if status == "resolved" else None,
        received_at=context.received_at,
    )


def _time(item: dict, path: str, problems: list[str]):
    if "ts" not in item:
        return None
    try:
        at = parse_time(item["ts"])
    except ValueError:
        at = None
    if at is None:
        problems.append(
            f"{path}ts: ts is not an epoch number or ISO-8601 time ({item['ts']!r})"
        )
    return at


def _labels(item: dict, path: str, problems: list[str]) -> dict[str, str]:
    labels = item.get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(v, str | int | float | bool) for v in labels.values()
    ):
        problems.append(f"{path}labels: expected an object of strings")
        return {}
    return clean_labels(labels)


def _kind(value: Any) -> str:
    match value:
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case dict():
            return "object"
        case None:
            return "null"
    return type(value).__name__
