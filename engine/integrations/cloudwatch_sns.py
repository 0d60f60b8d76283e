"""AWS CloudWatch alarms delivered by SNS: an HTTP(S) subscription's envelope.

The alarm is a JSON document encoded as a string in the envelope's `Message`,
so it is decoded twice. Also accepted: the `Records[].Sns` shape of a Lambda
forwarder, and the bare alarm of a raw-delivery subscription. The dedup key
is `AlarmArn`. `NewStateValue` ALARM fires, OK resolves, and
INSUFFICIENT_DATA fires at warning with `no_data=true` and resolves nothing.
Subscription confirmations are ignored, with the SubscribeURL in the note.
SNS signatures are not verified: the secret token in the URL authenticates.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

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

_STATES = {
    "ALARM": ("firing", "error"),
    "INSUFFICIENT_DATA": ("firing", "warning"),
    "OK": ("resolved", None),
}
_CONFIRMATIONS = ("SubscriptionConfirmation", "UnsubscribeConfirmation")


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield the alarm of each notification; confirmations are ignored."""
    data = require_object(decode_json(body), "body")
    if "Records" in data:
        return _records(data["Records"], context)
    if "Type" not in data and "AlarmName" in data:
        return [_alarm(data, "", "", context)]  # raw message delivery
    return _envelope(data, "", context)


def _records(records: Any, context: ParseContext) -> list[Alert]:
    if not isinstance(records, list):
        raise reject("Records", "expected an array of SNS records")
    alerts = []
    for i, record in enumerate(records):
        record = require_object(record, f"Records[{i}]")
        envelope = require_object(record.get("Sns"), f"Records[{i}].Sns")
        alerts.extend(_envelope(envelope, f"Records[{i}].Sns.", context))
    return alerts


_SNS_URL = re.compile(r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[^\s]*$")


def _confirmation(envelope: dict) -> str:
    """How to confirm: the SubscribeURL only when it is really AWS SNS's."""
    url = text(envelope.get("SubscribeURL"))
    if not url:
        return "it carries no SubscribeURL"
    if not _SNS_URL.match(url):
        return "its SubscribeURL is not an AWS SNS address, so it is not shown"
    return f"to confirm, open {url}"


def _envelope(envelope: dict, path: str, context: ParseContext) -> list[Alert]:
    kind = text(envelope.get("Type"))
    topic = text(envelope.get("TopicArn"))
    if kind in _CONFIRMATIONS:
        return context.ignore(
            f"SNS {kind} for topic {topic or '?'}; {_confirmation(envelope)}"
        )
    if kind != "Notification":
        raise reject(
            f"{path}Type",
            "expected 'Notification' or a subscription confirmation, "
            f"got {shown(kind)}",
        )
    alarm = _message(envelope.get("Message"), f"{path}Message")
    return [_alarm(alarm, f"{path}Message.", topic, context)]


def _message(message: Any, path: str) -> dict:
    if isinstance(message, dict):
        return message
    if not isinstance(message, str):
        raise reject(path, "expected the alarm as a JSON string")
    try:
        decoded = msgspec.json.decode(message)
    except (msgspec.DecodeError, RecursionError) as err:
        raise reject(path, "not a CloudWatch alarm (the message is not JSON)") from err
    return require_object(decoded, path)


def _alarm(alarm: dict, path: str, topic: str, context: ParseContext) -> Alert:
    state = text(alarm.get("NewStateValue"))
    if state not in _STATES:
        raise reject(
            f"{path}NewStateValue",
            f"expected ALARM, OK or INSUFFICIENT_DATA, got {shown(state)}",
        )
    status, severity = _STATES[state]
    at = time_field(alarm.get("StateChangeTime"), f"{path}StateChangeTime")
    labels = _labels(alarm, topic)
    if state == "INSUFFICIENT_DATA":
        labels["no_data"] = "true"
    return new_alert(
        context,
        "cloudwatch_sns",
        _dedup_key(alarm, labels, path),
        status,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        title=text(alarm.get("AlarmName")),
        labels=labels,
        annotations=_annotations(alarm),
        starts_at=at if status == "firing" else None,
        ends_at=(at or context.received_at) if status == "resolved" else None,
    )


def _dedup_key(alarm: dict, labels: dict[str, str], path: str) -> str:
    arn, name = text(alarm.get("AlarmArn")).strip(), text(alarm.get("AlarmName"))
    if arn:
        return arn
    if not name.strip():
        raise reject(f"{path}AlarmArn", "empty, and no AlarmName to identify the alarm")
    account, region = labels.get("aws_account", ""), labels.get("aws_region", "")
    return f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"


def _labels(alarm: dict, topic: str) -> dict[str, str]:
    """The InstanceId dimension as host; account, region and the rest besides."""
    trigger = alarm.get("Trigger")
    trigger = trigger if isinstance(trigger, dict) else {}
    labels: dict[str, str] = {}
    for dimension in _dimensions(trigger):
        name, value = text(dimension.get("name")), text(dimension.get("value"))
        labels["host" if name == "InstanceId" else name] = value
    arn = text(alarm.get("AlarmArn")).split(":") + [""] * 6
    topic_arn = topic.split(":") + [""] * 6
    labels["aws_account"] = text(alarm.get("AWSAccountId")) or arn[4]
    labels["aws_region"] = arn[3] or topic_arn[3]
    labels["namespace"] = text(trigger.get("Namespace"))
    return labels


def _dimensions(trigger: dict) -> list[dict]:
    found = trigger.get("Dimensions")
    if not isinstance(found, list):
        return []
    return [d for d in found if isinstance(d, dict)]


def _annotations(alarm: dict) -> dict[str, str]:
    trigger = alarm.get("Trigger")
    metric = text(trigger.get("MetricName")) if isinstance(trigger, dict) else ""
    return {
        "description": text(alarm.get("AlarmDescription")),
        "reason": text(alarm.get("NewStateReason")),
        "metric": metric,
        "previous_state": text(alarm.get("OldStateValue")),
    }
