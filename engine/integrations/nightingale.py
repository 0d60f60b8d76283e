"""Nightingale (n9e) alert events: one event object, or an array of them.

v8 notification channels post `{{ jsonMarshal $events }}`, an array; older
per-rule callbacks post one object. The dedup key is `hash` (rule id plus
series key); `id` is a row id that changes with every event. `is_recovered`
is the recovery, whose time is `last_eval_time`, as Nightingale itself
records it. Times are epoch seconds; `first_trigger_time` may be 0. The v5
format (`hash_id`, `is_recovery`, `priority`) is rejected with a message.
"""

from __future__ import annotations

from typing import Any

from bus.wire import Alert
from engine.integrations.base import (
    ParseContext,
    PayloadRejected,
    decode_json,
    label_digest,
    new_alert,
    reject,
    require_object,
    shown,
    text,
    time_field,
)

_SEVERITIES = {1: "critical", 2: "warning", 3: "info"}  # n9e's S1, S2, S3


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield every event of the body, firing and recovered mixed."""
    data = decode_json(body)
    if isinstance(data, list):
        return [_alert(item, f"[{i}].", context) for i, item in enumerate(data)]
    return [_alert(data, "", context)]


def _alert(item: Any, path: str, context: ParseContext) -> Alert:
    event = require_object(item, path.rstrip(".") or "body")
    if "hash" not in event and "hash_id" in event:
        raise reject(
            f"{path}hash", "missing: this is Nightingale's v5 event format "
            "(hash_id, is_recovery), which is not supported; use v6 or later",
        )  # fmt: skip
    recovered = _flag(event.get("is_recovered"), f"{path}is_recovered")
    labels = _labels(event, path)
    return new_alert(
        context,
        "nightingale",
        _dedup_key(event, labels, path),
        "resolved" if recovered else "firing",
        severity=_severity(event.get("severity")),  # type: ignore[arg-type]
        title=text(event.get("rule_name")) or text(event.get("rule_note")),
        labels=labels,
        annotations=_annotations(event),
        starts_at=_started(event, path),
        ends_at=_ended(event, path, context) if recovered else None,
    )


def _flag(value: Any, path: str) -> bool:
    if value in (None, False, 0, "", "false", "0"):
        return False
    if value in (True, 1, "true", "1"):
        return True
    raise reject(path, f"expected true or false, got {shown(value)}")


def _dedup_key(event: dict, labels: dict[str, str], path: str) -> str:
    key = text(event.get("hash")).strip()
    if key:
        return key
    # A sender without `hash`: the same rule and series, as n9e derives it.
    rule = text(event.get("rule_id")).strip()
    if rule and rule != "0" and labels:
        return label_digest({**labels, "__rule_id__": rule})
    raise PayloadRejected(
        [f"{path}hash: empty, and no rule_id and tags to identify the event"], 422
    )


def _severity(value: Any) -> str:
    try:
        return _SEVERITIES.get(int(text(value) or 0), "error")
    except ValueError:
        return "error"


def _labels(event: dict, path: str) -> dict[str, str]:
    tags = event.get("tags_map")
    if not isinstance(tags, dict):
        tags = _tag_list(event.get("tags"))
    labels = {str(k): text(v) for k, v in tags.items()}
    for label, name in (("host", "target_ident"), ("cluster", "cluster")):
        if text(event.get(name)):
            labels[label] = text(event[name])
    if text(event.get("group_name")):
        labels.setdefault("group", text(event["group_name"]))
    return labels


def _tag_list(tags: Any) -> dict[str, str]:
    """`["service=订单服务", "path=/a=b"]`: split at the first `=` only."""
    if not isinstance(tags, list):
        return {}
    pairs = (text(tag).partition("=") for tag in tags)
    return {name: value for name, sep, value in pairs if sep and name}


def _annotations(event: dict) -> dict[str, str]:
    found = event.get("annotations")
    annotations = dict(found) if isinstance(found, dict) else {}
    for name in ("rule_note", "prom_ql"):
        if text(event.get(name)):
            annotations.setdefault(name, text(event[name]))
    return annotations


def _started(event: dict, path: str):
    first = _epoch(event, "first_trigger_time", path)
    return first or _epoch(event, "trigger_time", path)


def _ended(event: dict, path: str, context: ParseContext):
    return _epoch(event, "last_eval_time", path) or context.received_at


def _epoch(event: dict, name: str, path: str):
    value = event.get(name)
    if value in (None, 0, "0", ""):
        return None  # 0 is n9e's "not set"
    return time_field(value, f"{path}{name}")
