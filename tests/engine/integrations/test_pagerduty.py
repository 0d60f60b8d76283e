"""The PagerDuty Events API v2: actions, keys, and what it rejects."""

from __future__ import annotations

import pytest

from engine.integrations import pagerduty
from engine.integrations.base import PayloadRejected
from tests.engine.integrations.cases import (
    RECEIVED_AT,
    cases,
    check,
    encoded,
    fixture,
    parse,
    rejection,
)


@pytest.mark.parametrize("case", cases("pagerduty"))
def test_shared_case(case):
    check(case)


def trigger(**changes) -> dict:
    return {**fixture("pagerduty", "trigger.json"), **changes}


def test_a_trigger_without_dedup_key_is_a_new_alert_each_time():
    body = encoded(trigger(dedup_key=None))
    [a] = parse("pagerduty", body)
    [b] = parse("pagerduty", body, received_at=RECEIVED_AT.replace(second=1))
    assert a.dedup_key != b.dedup_key
    # ...and the same input gives the same key: the parser stays pure.
    assert parse("pagerduty", body)[0].dedup_key == a.dedup_key


def test_acknowledge_is_ignored():
    # The engine takes acknowledgments from people; see docs/integrations.md.
    body = {"routing_key": "x", "event_action": "acknowledge", "dedup_key": "k"}
    assert parse("pagerduty", encoded(body)) == []


def test_the_routing_key_is_never_kept():
    [alert] = parse("pagerduty", encoded(trigger()))
    assert "R0000000000000000000000000000EXA" not in repr(alert)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (trigger(event_action="create"), "event_action: expected trigger"),
        ({"event_action": "resolve"}, "dedup_key: required to resolve"),
        (trigger(dedup_key="k" * 256), "dedup_key: longer than 255"),
        (trigger(payload={"summary": "x", "source": "y"}), "payload.severity:"),
        (
            trigger(payload={"severity": "critical"}),
            "payload.summary: required, a non-empty string; payload.source:",
        ),
        (trigger(payload=None), "payload: expected an object"),
    ],
)
def test_bad_events_are_rejected_by_field(body, words):
    assert words in rejection("pagerduty", encoded(body))


def test_the_routing_key_is_read_for_the_gateway():
    assert (
        pagerduty.routing_key(encoded(trigger())) == "R0000000000000000000000000000EXA"
    )
    with pytest.raises(PayloadRejected, match="routing_key: missing"):
        pagerduty.routing_key(b'{"event_action": "trigger"}')
