"""Uptime Kuma's webhook notification: `{heartbeat, monitor, msg}`.

The body is JSON, or form-data with the JSON in a field named `data`. The
dedup key is the monitor's id. Heartbeat status 0 (DOWN) fires and 1 (UP)
resolves; 2 (PENDING, retrying) and 3 (MAINTENANCE) are ignored, and so is
the Test button's body, whose heartbeat and monitor are null.
`heartbeat.time` is UTC without a zone marker; `localDateTime` is not read.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

from bus.wire import Alert
from engine.integrations.base import (
    ParseContext,
    PayloadRejected,
    decode_json,
    host_of_url,
    new_alert,
    reject,
    require_object,
    shown,
    text,
    time_field,
)

_STATUSES = {0: "firing", 1: "resolved"}
_IGNORED = {2: "a PENDING heartbeat (retrying)", 3: "a MAINTENANCE heartbeat"}
_PART_NAME = re.compile(rb'name="?data"?', re.IGNORECASE)


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield the monitor's alert; pending, maintenance and tests are ignored."""
    data = require_object(decode_json(_json_of(body)), "body")
    heartbeat, monitor = data.get("heartbeat"), data.get("monitor")
    if heartbeat is None and monitor is None:
        return context.ignore("the Test button's notification")
    heartbeat = require_object(heartbeat, "heartbeat")
    monitor = require_object({} if monitor is None else monitor, "monitor")
    status = _status(heartbeat.get("status"))
    if status in _IGNORED:
        return context.ignore(_IGNORED[status])
    return [_alert(heartbeat, monitor, _STATUSES[status], data, context)]


def _json_of(body: bytes) -> bytes:
    """The JSON of a form-data body's `data` field; a JSON body as it is."""
    start = body.lstrip()[:2]
    if start == b"--":
        return _multipart_data(body.lstrip())
    if body.startswith(b"data="):
        values = parse_qs(body.decode("utf-8", "replace")).get("data", [""])
        return values[0].encode()
    return body


def _multipart_data(body: bytes) -> bytes:
    boundary = body.split(b"\r\n", 1)[0].split(b"\n", 1)[0].strip()
    for part in body.split(boundary):
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = part.partition(b"\n\n")
        if sep and _PART_NAME.search(head):
            return content.removesuffix(b"\r\n").removesuffix(b"\n")
    raise PayloadRejected(["body: form-data without a field named 'data'"], 422)


def _status(value: Any) -> int:
    number = text(value).strip() if not isinstance(value, bool) else ""
    if number.isdigit() and (int(number) in _STATUSES or int(number) in _IGNORED):
        return int(number)
    raise reject(
        "heartbeat.status",
        "expected 0 (down), 1 (up), 2 (pending) or 3 (maintenance), "
        f"got {shown(value)}",
    )


def _alert(
    heartbeat: dict, monitor: dict, status: str, data: dict, context: ParseContext
) -> Alert:
    monitor_id = text(monitor.get("id")) or text(heartbeat.get("monitorID"))
    if not monitor_id.strip():
        raise reject("monitor.id", "empty, and no heartbeat.monitorID to identify it")
    at = time_field(heartbeat.get("time"), "heartbeat.time")
    return new_alert(
        context,
        "uptime_kuma",
        monitor_id,
        status,  # type: ignore[arg-type]
        severity="error",  # Uptime Kuma has none; the fail-safe default pages
        title=text(monitor.get("name")) or f"monitor {monitor_id}",
        labels=_labels(monitor),
        annotations=_annotations(heartbeat, monitor, data),
        starts_at=at if status == "firing" else None,
        ends_at=(at or context.received_at) if status == "resolved" else None,
    )


def _labels(monitor: dict) -> dict[str, str]:
    labels: dict[str, str] = {}
    tags = monitor.get("tags")
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict) and text(tag.get("name")):
            labels[text(tag["name"])] = text(tag.get("value")) or "true"
    host = text(monitor.get("hostname")) or host_of_url(monitor.get("url"))
    if host:
        labels["host"] = host
    if text(monitor.get("type")):
        labels["monitor_type"] = text(monitor["type"])
    return labels


def _annotations(heartbeat: dict, monitor: dict, data: dict) -> dict[str, str]:
    return {
        "message": text(data.get("msg")),
        "heartbeat": text(heartbeat.get("msg")),
        "url": text(monitor.get("url")),
    }
