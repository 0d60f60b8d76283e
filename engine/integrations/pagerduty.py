"""The PagerDuty Events API v2, so that anything that can page PagerDuty pages us.

Served at `POST /v2/enqueue` (the integration's token is the `routing_key`)
and at the integration's own URL. `event_action` trigger fires, resolve
resolves the alert of `dedup_key` (one never seen is recorded as an orphan
and opens nothing), and acknowledge is ignored: the engine takes
acknowledgments from people, not from sources. A trigger without a
`dedup_key` gets one of its own, so every such event is a new alert. The
`routing_key` is the integration's secret and is never stored.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from bus.wire import SEVERITIES, Alert
from engine.integrations.base import (
    ParseContext,
    PayloadRejected,
    decode_json,
    decode_struct,
    kind_of,
    new_alert,
    reject,
    require_object,
    shown,
    text,
    time_field,
)

MAX_DEDUP_KEY = 255
_ACTIONS = ("trigger", "acknowledge", "resolve")


class _RoutingKey(msgspec.Struct):
    routing_key: Any = None


_routing_decoder = msgspec.json.Decoder(_RoutingKey)


def routing_key(body: bytes) -> str:
    """The event's `routing_key`, to find its integration; rejects if there is none."""
    found = decode_struct(body, _routing_decoder).routing_key
    if not isinstance(found, str) or not found.strip():
        raise reject("routing_key", "missing: it must be the integration's token", 400)
    return found.strip()


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield the event's alert; an acknowledge yields nothing."""
    event = require_object(decode_json(body), "body")
    action = text(event.get("event_action"))
    if action not in _ACTIONS:
        raise reject(
            "event_action",
            f"expected trigger, acknowledge or resolve, got {shown(action)}",
        )
    dedup_key = _dedup_key(event, action, body, context)
    if action == "acknowledge":
        return context.ignore(
            f"acknowledge of {shown(dedup_key)}: acknowledgments come from people here"
        )
    if action == "resolve":
        return [_resolve(dedup_key, context)]
    return [_trigger(event, dedup_key, context)]


def _dedup_key(event: dict, action: str, body: bytes, context: ParseContext) -> str:
    given = event.get("dedup_key")
    if given is not None and not isinstance(given, str):
        raise reject("dedup_key", f"expected a string, got {kind_of(given)}")
    key = (given or "").strip()
    if len(key) > MAX_DEDUP_KEY:
        raise reject("dedup_key", f"longer than {MAX_DEDUP_KEY} characters")
    if key:
        return key
    if action != "trigger":
        raise reject("dedup_key", f"required to {action} an alert")
    return _fresh_key(body, context)


def _fresh_key(body: bytes, context: ParseContext) -> str:
    # PagerDuty gives a keyless trigger a new UUID. Deriving it from the body
    # and the receipt time keeps the parser a pure function of its inputs.
    seed = context.received_at.isoformat().encode() + b"\x00" + body
    digest = hashlib.sha256(seed).hexdigest()
    return (
        f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    )


def _resolve(dedup_key: str, context: ParseContext) -> Alert:
    return new_alert(
        context, "pagerduty", dedup_key, "resolved", ends_at=context.received_at
    )


def _trigger(event: dict, dedup_key: str, context: ParseContext) -> Alert:
    payload = require_object(event.get("payload"), "payload")
    _check_payload(payload)
    at = time_field(payload.get("timestamp"), "payload.timestamp")
    return new_alert(
        context,
        "pagerduty",
        dedup_key,
        "firing",
        severity=payload["severity"],
        title=payload["summary"],
        labels=_labels(payload),
        annotations=_annotations(event, payload),
        starts_at=at or context.received_at,
    )


def _check_payload(payload: dict) -> None:
    problems = []
    for name in ("summary", "source"):
        value = payload.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"payload.{name}: required, a non-empty string")
    if payload.get("severity") not in SEVERITIES:
        problems.append(
            "payload.severity: expected critical, error, warning or info, "
            f"got {shown(payload.get('severity'))}"
        )
    if problems:
        raise PayloadRejected(problems, 422)


def _labels(payload: dict) -> dict[str, str]:
    names = {
        "host": "source",
        "service": "group",
        "component": "component",
        "class": "class",
    }
    return {label: text(payload.get(name)) for label, name in names.items()}


def _annotations(event: dict, payload: dict) -> dict[str, str]:
    annotations = {"client": text(event.get("client"))}
    annotations["client_url"] = text(event.get("client_url"))
    details = payload.get("custom_details")
    if details not in (None, "", {}):
        shown = details if isinstance(details, str) else msgspec.json.encode(details)
        annotations["details"] = shown if isinstance(shown, str) else shown.decode()
    links = event.get("links")
    if isinstance(links, list) and links and isinstance(links[0], dict):
        annotations["link"] = text(links[0].get("href"))
    return annotations
