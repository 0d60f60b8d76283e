"""warroom's own JSON alert (`oncall.generic/v1`) for internal scripts.

Fields: `source`, `check`, `state` (problem | ok), `severity` (one of the
four), `summary`, `ts` (epoch seconds or milliseconds, or ISO-8601 with an
offset); optional `host`, `service`, `details`, `labels` and `dedup_key`,
which wins over the default key `source|check|host`. A body is one object or
an array of them.
"""

from __future__ import annotations

import re
from typing import Any

from bus.wire import Alert
from engine.core.severity import SEVERITIES
from engine.integrations.base import (
    ParseContext,
    PayloadRejected,
    clean_labels,
    decode_json,
    kind_of,
    new_alert,
    parse_time,
    shown,
)

_REQUIRED = ("source", "check", "state", "severity", "summary", "ts")
_STATES = {"problem": "firing", "ok": "resolved"}
_TEXT_FIELDS = ("source", "check", "summary", "host", "service", "details", "dedup_key")


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
        where = path.rstrip(".") or "body"
        problems.append(f"{where}: expected an object, got {kind_of(item)}")
        return None
    before = len(problems)
    _check_fields(item, path, problems)
    at = _time(item, path, problems)
    labels = _labels(item, path, problems)
    if len(problems) > before:
        return None
    return _build(item, labels, at, context, path, problems)


def _check_fields(item: dict, path: str, problems: list[str]) -> None:
    for name in _REQUIRED:
        if name not in item:
            problems.append(f"{path}{name}: missing required field '{name}'")
    for name in _TEXT_FIELDS:
        if item.get(name) is not None and not isinstance(item[name], str):
            problems.append(
                f"{path}{name}: expected a string, got {kind_of(item[name])}"
            )
    state = item.get("state")
    if "state" in item and (not isinstance(state, str) or state not in _STATES):
        problems.append(
            f"{path}state: state must be 'problem' or 'ok' (got {shown(state)})"
        )
    severity = item.get("severity")
    if "severity" in item and severity not in SEVERITIES:
        problems.append(
            f"{path}severity: severity must be one of critical|error|warning|info "
            f"(got {kind_of(severity)} {shown(severity)})"
        )


def _build(item, labels, at, context, path, problems) -> Alert | None:
    host = item.get("host") or ""
    if not (item["source"] or "").strip() or not (item["check"] or "").strip():
        problems.append(f"{path}check: source and check must not be empty")
        return None
    dedup_key = item.get("dedup_key") or "|".join((item["source"], item["check"], host))
    if host:
        labels["host"] = host
    if item.get("service"):
        labels["service"] = item["service"]
    labels.setdefault("check", item["check"])
    status = _STATES[item["state"]]
    return new_alert(
        context,
        "generic",
        dedup_key,
        status,  # type: ignore[arg-type]
        severity=item["severity"],
        title=item["summary"] or item["check"],
        labels=labels,
        annotations={"details": item.get("details") or ""},
        starts_at=at if status == "firing" else None,
        ends_at=at if status == "resolved" else None,
    )


_HAS_OFFSET = re.compile(r"(Z|z|[+-]\d{2}(:?\d{2})?)$|^\d+(\.\d+)?$")


def _time(item: dict, path: str, problems: list[str]):
    if "ts" not in item:
        return None
    try:
        at = parse_time(item["ts"])
    except ValueError:
        at = None
    if at is None:
        problems.append(
            f"{path}ts: ts is not an epoch number or ISO-8601 time "
            f"({shown(item['ts'])})"
        )
    elif isinstance(item["ts"], str) and not _HAS_OFFSET.search(item["ts"].strip()):
        # A script's local time without its offset is a guess; refuse it.
        problems.append(f"{path}ts: an ISO-8601 time needs its UTC offset or Z")
        at = None
    return at


def _labels(item: dict, path: str, problems: list[str]) -> dict[str, str]:
    labels = item.get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(v, str | int | float | bool) for v in labels.values()
    ):
        problems.append(f"{path}labels: expected an object of strings")
        return {}
    return clean_labels(labels)
