"""Grafana's webhook contact point: the shared cases and Grafana's own alerts."""

from __future__ import annotations

import pytest

from tests.engine.integrations.cases import (
    cases,
    check,
    encoded,
    fixture,
    parse,
    rejection,
)


@pytest.mark.parametrize("case", cases("grafana"))
def test_shared_case(case):
    check(case)


def body_with(**alert) -> dict:
    body = fixture("grafana", "firing-two-alerts.json")
    body["alerts"] = [{**body["alerts"][0], **alert}]
    return body


def test_a_no_data_alert_is_titled_by_its_rule_and_marked():
    # DatasourceNoData is Grafana's generic name; the rule is in labels.rulename.
    labels = {"alertname": "DatasourceNoData", "rulename": "Checkout latency"}
    [alert] = parse("grafana", encoded(body_with(labels=labels, annotations={})))
    assert alert.title == "Checkout latency: no data"
    assert alert.labels["no_data"] == "true"


def test_a_resolved_no_data_alert_without_labels_keeps_its_fingerprint():
    # grafana/grafana#73088: the labels may be missing; the fingerprint is not.
    [alert] = parse(
        "grafana",
        encoded(body_with(status="resolved", labels={}, endsAt="2024-06-03T15:00:00Z")),
    )
    assert alert.status == "resolved" and alert.dedup_key == "5d2c7a0e9b13f4a6"


def test_values_may_be_null():
    [alert] = parse("grafana", encoded(body_with(values=None)))
    assert alert.status == "firing"


def test_the_legacy_format_is_rejected_with_a_way_out():
    legacy = {"ruleId": 7, "ruleName": "cpu", "state": "alerting", "evalMatches": []}
    assert "legacy alerting webhook" in rejection("grafana", encoded(legacy))


def test_mixed_firing_and_resolved_alerts_each_keep_their_status():
    body = fixture("grafana", "firing-two-alerts.json")
    body["alerts"][1].update(status="resolved", endsAt="2024-06-03T14:20:00Z")
    alerts = parse("grafana", encoded(body))
    assert [a.status for a in alerts] == ["firing", "resolved"]
