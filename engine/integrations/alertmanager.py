"""Prometheus Alertmanager's webhook (version 4): one incident per group.

Each alert carries its own `status`, so one body mixes firing and resolved
alerts. The dedup key is the alert's `fingerprint` (a hash of its labels), or
a digest of the labels when a sender leaves it out; never the annotations,
which change while the problem stays the same. Alerts cut by `max_alerts`
(`truncatedAlerts`) are not in the body and are not resolved by it.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from bus.wire import Alert
from engine.core.severity import normalize
from engine.integrations.base import (
    ParseContext,
    PayloadRejected,
    clean_line,
    decode_struct,
    label_digest,
    new_alert,
    reject,
    shown,
    strip_port,
    time_field,
)


class AlertItem(msgspec.Struct):
    """One alert of the body, as Alertmanager and Grafana write it."""

    status: str
    labels: dict[str, str] | None = None  # some senders write null for none
    annotations: dict[str, str] | None = None
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str = ""
    fingerprint: str = ""


class _Body(msgspec.Struct):
    alerts: list[AlertItem]
    version: str = "4"
    status: str = ""
    receiver: str = ""
    groupKey: str = ""
    groupLabels: dict[str, str] = {}
    commonAnnotations: dict[str, str] = {}
    truncatedAlerts: int = 0


@dataclass(frozen=True, slots=True)
class Group:
    """What every alert of one notification shares."""

    key: str | None
    title: str | None


_decoder = msgspec.json.Decoder(_Body)


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield every alert of the body, firing and resolved mixed."""
    message = decode_struct(body, _decoder)
    group = group_of(message.groupKey, message.groupLabels, message.commonAnnotations)
    return [
        to_alert(item, f"alerts[{i}]", group, context, "alertmanager")
        for i, item in enumerate(message.alerts)
    ]


def to_alert(
    item: AlertItem,
    path: str,
    group: Group,
    context: ParseContext,
    source: str,
    title: str | None = None,
) -> Alert:
    """One alert of an Alertmanager-shaped body; `title` overrides the default."""
    if item.status not in ("firing", "resolved"):
        raise reject(
            f"{path}.status",
            f"expected 'firing' or 'resolved', got {shown(item.status)}",
        )
    dedup_key = clean_line(item.fingerprint, 128) or _labels_key(item, path)
    labels = dict(item.labels or {})
    annotations = item.annotations or {}
    if not labels.get("host") and labels.get("instance"):
        labels["host"] = strip_port(labels["instance"])
    return new_alert(
        context,
        source,
        dedup_key,
        item.status,  # type: ignore[arg-type]
        severity=normalize(labels.get("severity")),  # type: ignore[arg-type]
        title=title or annotations.get("summary") or labels.get("alertname"),
        labels=labels,
        annotations=annotations,
        starts_at=time_field(item.startsAt, f"{path}.startsAt"),
        ends_at=_ends_at(item, path, context),
        group_key=group.key,
        group_title=group.title,
    )


def _labels_key(item: AlertItem, path: str) -> str:
    if not item.labels or not any(item.labels.values()):
        raise PayloadRejected(
            [f"{path}: no fingerprint and no labels to identify it"], 422
        )
    return label_digest(item.labels)


def _ends_at(item: AlertItem, path: str, context: ParseContext):
    # A firing alert's endsAt is Go's zero time or an expiry hint: never an end.
    if item.status != "resolved":
        return None
    return time_field(item.endsAt, f"{path}.endsAt") or context.received_at


def group_of(key: str, labels: dict[str, str], annotations: dict[str, str]) -> Group:
    """The notification group: its key, and a title from its common summary."""
    if annotations.get("summary"):
        return Group(key or None, annotations["summary"])
    rest = dict(labels)
    name = rest.pop("alertname", "")
    shown = ", ".join(f"{k}={v}" for k, v in sorted(rest.items()))
    title = f"{name} ({shown})" if name and shown else name or shown
    return Group(key or None, title or None)
