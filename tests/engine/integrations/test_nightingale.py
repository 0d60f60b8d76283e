"""Nightingale's callback: the shared cases, arrays of events, recovery."""

from __future__ import annotations

import pytest

from tests.engine.integrations.cases import (
    cases,
    check,
    encoded,
    fixture,
    instant,
    parse,
    rejection,
)


@pytest.mark.parametrize("case", cases("nightingale"))
def test_shared_case(case):
    check(case)


def event(**changes) -> dict:
    return {**fixture("nightingale", "firing-unicode.json"), **changes}


def test_an_array_of_events_yields_each_firing_and_recovered():
    # v8 notification channels post {{ jsonMarshal $events }}: an array.
    recovered = event(hash="b" * 32, is_recovered=True, last_eval_time=1715138400)
    alerts = parse("nightingale", encoded([event(), recovered]))
    assert [a.status for a in alerts] == ["firing", "resolved"]
    # Nightingale records last_eval_time as the recover time.
    assert alerts[1].ends_at == instant("2024-05-08T03:20:00Z")


def test_the_row_id_is_not_the_identity():
    # `id` changes with every event of the same alert; `hash` does not.
    [a], [b] = (
        parse("nightingale", encoded(event(id=1))),
        parse("nightingale", encoded(event(id=2))),
    )
    assert a.dedup_key == b.dedup_key


def test_a_zero_first_trigger_time_falls_back_to_trigger_time():
    [alert] = parse("nightingale", encoded(event(first_trigger_time=0)))
    assert alert.starts_at == instant("2024-05-08T02:20:00Z")


@pytest.mark.parametrize(
    ("level", "severity"), [(2, "warning"), (3, "info"), (9, "error")]
)
def test_severity_levels(level, severity):
    # S2 warning, S3 info; an unknown level pages as error, the fail-safe.
    [alert] = parse("nightingale", encoded(event(severity=level)))
    assert alert.severity == severity


def test_tags_list_is_read_when_tags_map_is_missing():
    # A tag value may itself contain "=": split at the first one only.
    body = event(tags_map=None, tags=["service=订单服务", "expr=a=b"])
    [alert] = parse("nightingale", encoded(body))
    assert alert.labels["service"] == "订单服务" and alert.labels["expr"] == "a=b"


def test_an_event_with_no_hash_no_rule_and_no_tags_is_rejected():
    body = event(hash="", rule_id=0, tags_map={}, tags=[], target_ident="")
    assert "[1].hash: empty" in rejection("nightingale", encoded([event(), body]))


def test_the_v5_format_is_rejected_by_name():
    old = {"hash_id": "abc", "is_recovery": False, "priority": 1, "tag_map": {}}
    assert "v5 event format" in rejection("nightingale", encoded(old))
