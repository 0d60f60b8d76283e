"""Google Cloud Monitoring incidents: the shared cases, states and severity."""

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


@pytest.mark.parametrize("case", cases("gcp_monitoring"))
def test_shared_case(case):
    check(case)


def incident(**changes) -> dict:
    body = fixture("gcp_monitoring", "incident-open.json")
    body["incident"].update(changes)
    return body


def test_state_is_compared_in_any_case():
    [alert] = parse("gcp_monitoring", encoded(incident(state="CLOSED")))
    assert alert.status == "resolved"


@pytest.mark.parametrize(
    ("severity", "policy_severity", "expected"),
    [
        ("WARNING", "critical", "warning"),  # the incident's own wins
        (None, "critical", "critical"),  # no severity: the policy's label
        ("SEVERITY_UNSPECIFIED", "p3", "warning"),  # label words as Alertmanager's
        (None, None, "error"),  # neither: the fail-safe default
    ],
)
def test_severity_falls_back_to_the_policy_label(severity, policy_severity, expected):
    labels = {"service": "checkout"}
    if policy_severity:
        labels["severity"] = policy_severity
    body = incident(severity=severity, policy_user_labels=labels)
    [alert] = parse("gcp_monitoring", encoded(body))
    assert alert.severity == expected


def test_documentation_that_is_not_an_object_falls_back_to_the_policy_name():
    [alert] = parse("gcp_monitoring", encoded(incident(documentation="test")))
    assert alert.title == "checkout-cpu-high"


def test_an_acknowledged_incident_is_ignored():
    assert parse("gcp_monitoring", encoded(incident(state="acknowledged"))) == []


def test_an_incident_without_id_is_rejected():
    assert "incident.incident_id: empty" in rejection(
        "gcp_monitoring", encoded(incident(incident_id=""))
    )
