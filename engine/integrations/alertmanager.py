"""Prometheus Alertmanager's webhook (version 4): one incident per group."""

from __future__ import annotations

import msgspec

from bus.wire import Alert
from engine.core.severity import normalize
from engine.integrations.base import (
    MAX_TITLE,
    ParseContext,
    PayloadRejected,
    clean_labels,
    clean_text,
    label_digest,
    parse_time,
    strip_port,
)


class _Alert(msgspec.Struct):
    status: str
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str = ""
    fingerprint: str = ""


class _Body(msgspec.Struct):
    alerts: list[_Alert]
    version: str = "4"
    status: str = ""
    receiver: str = ""
    groupKey: str = ""
    groupLabels: dict[str, str] = {}
    commonLabels: dict[str, str] = {}
    commonAnnotations: dict[str, str] = {}
    externalURL: str = ""
    truncatedAlerts: int = 0


_decoder = msgspec.json.Decoder(_Body)


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield every alert of the body, firing and resolved mixed."""
    message = _decode(body)
    group_title = _group_title(message)
    alerts = []
    for i, item in enumerate(message.alerts):
        alerts.append(_alert(item, f"alerts[{i}]", message, group_title, context))
    return alerts


def _decode(body: bytes) -> _Body:
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as err:
        raise PayloadRejected([_validation_problem(err)], status=422) from err
    except msgspec.DecodeError:
        from engine.integrations.base import decode_json

        decode_json(body)  # raises with the line and column
        raise


def _validation_problem(err: msgspec.ValidationError) -> str:
    text = str(err)
    if " - at `$" in text:
        message, where = text.rsplit(" - at `$", 1)
        return f"{where.rstrip('`').lstrip('.')}: {message[0].lower()}{message[1:]}"
    return f"body: {text[0].lower()}{text[1:]}"


def _alert(
    item: _Alert,
    path: str,
    message: _Body,
    group_title: str | None,
    context: ParseContext,
) -> Alert:
    if item.status not in ("firing", "resolved"):
        raise PayloadRejected(
            [f"{path}.status: expected 'firing' or 'resolved', got {item.status!r}"],
            422,
        )
    labels = clean_labels(item.labels)
    dedup_key = clean_text(item.fingerprint, 128) or (labels and label_digest(labels))
    if not dedup_key:
        raise PayloadRejected(
            [f"{path}: no fingerprint and no labels to identify it"], 422
        )
    starts_at = _time(item.startsAt, f"{path}.startsAt")
    ends_at = (
        _time(item.endsAt, f"{path}.endsAt") if item.status == "resolved" else None
    )
    if "host" not in labels and labels.get("instance"):
        labels["host"] = strip_port(labels["instance"])
    title = item.annotations.get("summary") or labels.get("alertname") or dedup_key
    return Alert(
        integration=context.integration,
        source="alertmanager",
        dedup_key=dedup_key,
        status=item.status,  # type: ignore[arg-type]
        severity=normalize(labels.get("severity")),  # type: ignore[arg-type]
        title=clean_text(title, MAX_TITLE),
        labels=labels,
        annotations=clean_labels(item.annotations, 16 * 1024),
        starts_at=starts_at,
        ends_at=ends_at,
        group_key=message.groupKey or None,
        group_title=group_title,
        received_at=context.received_at,
    )


def _time(value: str | None, path: str):
    if value in (None, ""):
        return None
    try:
        return parse_time(value)
    except ValueError as err:
        raise PayloadRejected([f"{path}: not a time ({value[:40]!r})"], 422) from err


def _group_title(message: _Body) -> str | None:
    summary = message.commonAnnotations.get("summary")
    if summary:
        return clean_text(summary, MAX_TITLE)
    labels = dict(message.groupLabels)
    name = labels.pop("alertname", "")
    rest = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    title = f"{name} ({rest})" if name and rest else name or rest
    return clean_text(title, MAX_TITLE) or None
