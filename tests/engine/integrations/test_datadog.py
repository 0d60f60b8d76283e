"""Datadog's webhook with warroom's template: identity, transitions, numbers."""

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


@pytest.mark.parametrize("case", cases("datadog"))
def test_shared_case(case):
    check(case)


def triggered(**changes) -> bytes:
    return encoded({**fixture("datadog", "triggered.json"), **changes})


def test_groups_of_one_multi_alert_monitor_get_different_keys():
    # One alert_id for every host: alert_id alone would merge two problems.
    [a] = parse("datadog", triggered())
    [b] = parse("datadog", triggered(alert_scope="host:web-4.example.internal"))
    assert a.dedup_key != b.dedup_key


@pytest.mark.parametrize(
    "transition", ["Re-Triggered", "Warn", "Re-Warn", "No Data", "Renotify"]
)
def test_only_recovered_resolves(transition):
    [alert] = parse("datadog", triggered(alert_transition=transition))
    assert alert.status == "firing"


def test_no_data_is_marked():
    [alert] = parse("datadog", triggered(alert_transition="No Data"))
    assert alert.labels["no_data"] == "true"


def test_unquoted_variables_arrive_as_numbers():
    # $ALERT_ID and $DATE without quotes; a 19-digit id stays exact.
    [alert] = parse(
        "datadog",
        triggered(alert_id=12345678, date=1710054903000, id=7434421905311094480),
    )
    assert alert.dedup_key.startswith("12345678|")
    assert alert.starts_at == instant("2024-03-10T07:15:03Z")


@pytest.mark.parametrize(
    ("priority", "alert_type", "expected"),
    [
        ("P3", "error", "warning"),  # priority wins over type
        ("", "warning", "warning"),  # no priority: the alert type
        ("$ALERT_PRIORITY", "info", "info"),  # an unfilled variable is no priority
        ("", "", "error"),  # neither: the fail-safe default
    ],
)
def test_severity(priority, alert_type, expected):
    [alert] = parse(
        "datadog", triggered(alert_priority=priority, alert_type=alert_type)
    )
    assert alert.severity == expected


def test_a_body_without_alert_id_or_aggreg_key_is_rejected():
    assert "alert_id: empty" in rejection(
        "datadog", triggered(alert_id="$ALERT_ID", aggreg_key="")
    )
