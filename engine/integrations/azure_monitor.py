"""Azure Monitor action groups' webhook with the common alert schema.

The dedup key is `essentials.alertId`, the same for Fired and Resolved.
`monitorCondition` Resolved, with `resolvedDateTime`, is the recovery.
Severity is Sev0 (critical) to Sev4 (info). Times have seven fractional
digits. Bodies without the common schema (the older per-signal shapes) are
rejected with a message that says to enable it on the action group.
"""

from __future__ import annotations

from typing import Any

from bus.wire import Alert
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

SCHEMA = "azureMonitorCommonAlertSchema"
_SEVERITIES = {
    "sev0": "critical",
    "sev1": "error",
    "sev2": "warning",
    "sev3": "info",
    "sev4": "info",  # verbose
}
_CONDITIONS = {"fired": "firing", "resolved": "resolved"}


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield the one alert of a common-schema notification."""
    data = require_object(decode_json(body), "body")
    schema = text(data.get("schemaId"))
    if schema != SCHEMA:
        raise reject(
            "schemaId",
            f"expected {SCHEMA!r}, got {shown(schema)}: enable the common alert "
            "schema on the action group's webhook action",
        )
    data = require_object(data.get("data"), "data")
    essentials = require_object(data.get("essentials"), "data.essentials")
    return [_alert(essentials, data.get("customProperties"), context)]


def _alert(essentials: dict, custom: Any, context: ParseContext) -> Alert:
    path = "data.essentials."
    alert_id = text(essentials.get("alertId")).strip()
    if not alert_id:
        raise reject(f"{path}alertId", "empty: nothing identifies this alert")
    condition = text(essentials.get("monitorCondition"))
    status = _CONDITIONS.get(condition.lower())
    if status is None:
        raise reject(
            f"{path}monitorCondition",
            f"expected 'Fired' or 'Resolved', got {shown(condition)}",
        )
    resolved = time_field(essentials.get("resolvedDateTime"), f"{path}resolvedDateTime")
    return new_alert(
        context,
        "azure_monitor",
        alert_id,
        status,  # type: ignore[arg-type]
        severity=_severity(essentials.get("severity")),  # type: ignore[arg-type]
        title=text(essentials.get("alertRule")),
        labels=_labels(essentials, custom),
        annotations=_annotations(essentials),
        starts_at=time_field(essentials.get("firedDateTime"), f"{path}firedDateTime"),
        ends_at=(resolved or context.received_at) if status == "resolved" else None,
    )


def _severity(value: Any) -> str:
    return _SEVERITIES.get(text(value).strip().lower(), "error")


def _labels(essentials: dict, custom: Any) -> dict[str, str]:
    labels: dict[str, str] = {}
    if isinstance(custom, dict):  # optional, and may be null
        labels = {str(k): text(v) for k, v in custom.items()}
    items = essentials.get("configurationItems")
    if isinstance(items, list) and items and text(items[0]):
        labels["host"] = text(items[0])
    for label, name in (
        ("signal_type", "signalType"),
        ("monitoring_service", "monitoringService"),
    ):
        if text(essentials.get(name)):
            labels.setdefault(label, text(essentials[name]))
    return labels


def _annotations(essentials: dict) -> dict[str, str]:
    targets = essentials.get("alertTargetIDs")
    target = text(targets[0]) if isinstance(targets, list) and targets else ""
    return {
        "description": text(essentials.get("description")),
        "target": target,
    }
