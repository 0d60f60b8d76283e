"""Azure Monitor's common alert schema: the shared cases and what it rejects."""

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


@pytest.mark.parametrize("case", cases("azure_monitor"))
def test_shared_case(case):
    check(case)


def fired(**essentials) -> dict:
    body = fixture("azure_monitor", "metric-fired.json")
    body["data"]["essentials"].update(essentials)
    return body


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("Sev0", "critical"), ("Sev2", "warning"), ("Sev3", "info"), ("Sev4", "info")],
)
def test_severities(severity, expected):
    [alert] = parse("azure_monitor", encoded(fired(severity=severity)))
    assert alert.severity == expected


def test_custom_properties_may_be_null():
    body = fired()
    body["data"]["customProperties"] = None
    [alert] = parse("azure_monitor", encoded(body))
    assert "service" not in alert.labels


def test_without_the_common_schema_the_rejection_says_to_enable_it():
    old = {"schemaId": "AzureMonitorMetricAlert", "data": {"status": "Activated"}}
    assert "enable the common alert schema" in rejection("azure_monitor", encoded(old))


def test_an_empty_alert_id_is_rejected():
    assert "data.essentials.alertId: empty" in rejection(
        "azure_monitor", encoded(fired(alertId=""))
    )
