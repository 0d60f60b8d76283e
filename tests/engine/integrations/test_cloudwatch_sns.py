"""CloudWatch alarms through SNS: envelopes, states, and the double decoding."""

from __future__ import annotations

import json

import pytest

from engine.integrations import PARSERS
from engine.integrations.base import ParseContext
from tests.engine.integrations.cases import (
    cases,
    check,
    encoded,
    fixture,
    instant,
    parse,
    rejection,
)


@pytest.mark.parametrize("case", cases("cloudwatch_sns"))
def test_shared_case(case):
    check(case)


def envelope(**alarm) -> dict:
    body = fixture("cloudwatch_sns", "alarm-http-envelope.json")
    body["Message"] = json.dumps({**json.loads(body["Message"]), **alarm})
    return body


def test_ok_resolves_the_alarm_of_the_same_arn():
    [fired] = parse("cloudwatch_sns", encoded(envelope()))
    [ok] = parse("cloudwatch_sns", encoded(envelope(NewStateValue="OK")))
    assert ok.status == "resolved" and ok.dedup_key == fired.dedup_key
    # The state change time is the end; the start is kept from the alarm.
    assert ok.starts_at is None
    assert ok.ends_at == instant("2024-10-27T01:30:12.345Z")


def test_insufficient_data_fires_at_warning_and_never_resolves():
    [alert] = parse(
        "cloudwatch_sns", encoded(envelope(NewStateValue="INSUFFICIENT_DATA"))
    )
    assert (alert.status, alert.severity) == ("firing", "warning")
    assert alert.labels["no_data"] == "true"


def test_the_instance_id_dimension_is_the_host():
    dimensions = [{"name": "InstanceId", "value": "i-0abc"}]
    trigger = {"Namespace": "AWS/EC2", "Dimensions": dimensions}
    [alert] = parse("cloudwatch_sns", encoded(envelope(Trigger=trigger)))
    assert alert.labels["host"] == "i-0abc" and "InstanceId" not in alert.labels


def test_a_null_description_and_a_composite_alarm_are_fine():
    # Composite alarms carry AlarmRule instead of Trigger.
    body = envelope(AlarmDescription=None, Trigger=None, AlarmRule="ALARM(a)")
    [alert] = parse("cloudwatch_sns", encoded(body))
    assert "description" not in alert.annotations


def test_lambda_records_yield_one_alarm_each():
    sns = fixture("cloudwatch_sns", "alarm-http-envelope.json")
    body = {"Records": [{"EventSource": "aws:sns", "Sns": sns}] * 2}
    assert len(parse("cloudwatch_sns", encoded(body))) == 2


def test_raw_message_delivery_posts_the_bare_alarm():
    alarm = json.loads(fixture("cloudwatch_sns", "alarm-http-envelope.json")["Message"])
    [alert] = parse("cloudwatch_sns", encoded(alarm))
    assert alert.title == "orders-api-5xx-high"


def test_an_unsubscribe_confirmation_is_ignored():
    body = {**fixture("cloudwatch_sns", "subscription-confirmation.json")}
    body["Type"] = "UnsubscribeConfirmation"
    assert parse("cloudwatch_sns", encoded(body)) == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        # Another service's notification on the same topic: plain text.
        ({"Type": "Notification", "Message": "RDS event"}, "Message: not a CloudWatch"),
        ({"Type": "Something"}, "Type: expected 'Notification'"),
        ({"Type": "Notification", "Message": "{}"}, "Message.NewStateValue:"),
    ],
)
def test_bodies_that_are_not_alarms_are_rejected(body, words):
    assert words in rejection("cloudwatch_sns", encoded(body))


def test_an_alarm_with_no_arn_and_no_name_is_rejected():
    body = envelope(AlarmArn="", AlarmName="")
    assert "AlarmArn: empty" in rejection("cloudwatch_sns", encoded(body))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # AWS's own confirmation endpoint: the operator may open it.
        ("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&x=1", True),
        # Anyone can post a "confirmation": a foreign URL is never passed on.
        ("https://evil.example/confirm", False),
        ("https://sns.eu-west-1.amazonaws.com.evil.example/confirm", False),
    ],
)
def test_only_an_aws_subscribe_url_is_passed_on(url, shown):
    body = {**fixture("cloudwatch_sns", "subscription-confirmation.json")}
    body["SubscribeURL"] = url
    context = ParseContext(
        integration="cloudwatch",
        kind="cloudwatch_sns",
        received_at=instant("2024-01-01T00:00:00Z"),
    )
    assert PARSERS["cloudwatch_sns"](encoded(body), context) == []
    assert (url in " ".join(context.notes)) is shown
