"""Zabbix's webhook media type: the shared cases, macros, updates, local time."""

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

SHANGHAI = {"parser_config": {"timezone": "Asia/Shanghai"}}


@pytest.mark.parametrize("case", cases("zabbix"))
def test_shared_case(case):
    check(case)


def problem(**changes) -> bytes:
    return encoded({**fixture("zabbix", "problem.json"), **changes})


def test_local_time_is_read_in_the_configured_zone():
    # 14:30 in Shanghai (UTC+8) and in New York (UTC-4 on 10 March) differ by 12h.
    [east] = parse("zabbix", problem(), **SHANGHAI)
    [west] = parse("zabbix", problem(), parser_config={"timezone": "America/New_York"})
    assert east.starts_at == instant("2024-03-10T06:30:00Z")
    assert west.starts_at == instant("2024-03-10T18:30:00Z")


def test_an_unknown_configured_zone_is_a_clear_rejection():
    text = rejection("zabbix", problem(), parser_config={"timezone": "Asia/Shangai"})
    assert "unknown time zone 'Asia/Shangai'" in text
    assert "integrations.test-zabbix.timezone" in text


def test_an_update_is_not_a_new_problem():
    # An acknowledgment of a problem warroom already holds must not page again.
    assert parse("zabbix", problem(event_update_status="1"), **SHANGHAI) == []


def test_a_cancelled_escalation_is_ignored():
    # It arrives problem-shaped (PagerDuty/pdagent-integrations#26).
    message = "NOTE: Escalation cancelled: host is in maintenance.\r\nProblem..."
    assert parse("zabbix", problem(alert_message=message), **SHANGHAI) == []


def test_unexpanded_macros_are_absent_not_values():
    # A host with no tags leaves {EVENT.TAGSJSON} as text: no labels from it.
    [alert] = parse(
        "zabbix", problem(event_tags="{EVENT.TAGSJSON}", host_ip="{HOST.IP}")
    )
    assert "service" not in alert.labels and "host_ip" not in alert.labels


def test_plain_event_tags_are_read_too():
    # {EVENT.TAGS} is "name:value, name:value"; a value may hold a colon.
    [alert] = parse("zabbix", problem(event_tags="service:billing-api, url:http://x"))
    assert alert.labels["service"] == "billing-api"
    assert alert.labels["url"] == "http://x"


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ({"event_nseverity": "5"}, "critical"),  # Disaster
        ({"event_nseverity": "3"}, "warning"),  # Average
        ({"event_nseverity": "0"}, "info"),  # Not classified
        ({"event_nseverity": "", "event_severity": "Disaster"}, "critical"),
        ({"event_nseverity": "{EVENT.NSEVERITY}", "event_severity": ""}, "error"),
    ],
)
def test_severity_follows_zabbix_numbers_then_names(severity, expected):
    [alert] = parse("zabbix", problem(**severity))
    assert alert.severity == expected


def test_an_unexpanded_event_id_is_rejected_by_name():
    assert "event_id: event_id is empty" in rejection(
        "zabbix", problem(event_id="{EVENT.ID}")
    )


def test_a_recovery_without_its_own_time_ends_when_received():
    body = {**fixture("zabbix", "recovery.json"), "event_recovery_date": ""}
    [alert] = parse("zabbix", encoded(body))
    assert alert.status == "resolved"
    assert alert.ends_at == instant("<time of receipt>")
