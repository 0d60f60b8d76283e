"""Dedup: repeats update the alert and page only for a raised severity."""

from __future__ import annotations

import pytest

from engine.core import incident as core
from engine.core.matchers import parse_matcher
from engine.core.routing import Router
from tests.engine.core.driver import Run, alert, at, policy


@pytest.mark.parametrize(
    ("repeat_severity", "pages"),
    [
        # Same severity: a duplicate of what the owner already holds pages nobody.
        ("warning", []),
        # Lower severity: the incident keeps its highest; nothing new to say.
        ("info", []),
        # Higher severity: the problem got worse, which is worth waking for.
        ("critical", ["severity_raised"]),
    ],
)
def test_acknowledged_incident_receives_a_duplicate(repeat_severity, pages):
    run = Run()
    run.send(alert("a"))
    incident = run.incident_of("a")
    core.acknowledge(run.state, incident, "alice", at(1), run.policy)
    core.add_note(run.state, incident, "alice", "looking", at(1), run.policy)
    before = len(run.pages)
    run.send(alert("a", severity=repeat_severity), when=at(2))
    assert run.reasons()[before:] == pages
    # A person's acknowledgment survives any repeat.
    assert (incident.state, incident.owner) == ("acknowledged", "alice")
    assert incident.alerts[("prom", "a")].count == 2


def test_repeat_updates_last_seen_count_and_changed_title():
    run = Run()
    run.send(alert("a"))
    run.send(alert("a", title="disk 97%"), when=at(5))
    record = run.incident_of("a").alerts[("prom", "a")]
    # Two arrivals, the later one's title and time; only the first paged.
    assert (record.count, record.title, record.last_seen_at) == (2, "disk 97%", at(5))
    assert run.reasons() == ["opened"]


def test_route_filtered_to_critical_still_lets_the_recovery_through():
    router = Router(
        routes=(((parse_matcher("severity=critical"),), "db"),),
        teams={"db": "database", "web": "webteam"},
        integration_services={},
        default_service="web",
    )
    run = Run(core.Policy(router, 600, frozenset({"alice"})))
    run.send(alert("a", severity="critical"))
    assert run.incident_of("a").service == "db"
    # The recovery carries no severity, so it matches no route; it is matched
    # by its dedup key instead, and the incident closes.
    run.send(alert("a", "resolved", severity=None), when=at(3))
    assert run.incident_of("a").state == "resolved"


def test_a_silenced_alert_raising_its_severity_does_not_page():
    run = Run()
    run.send(alert("a", labels={"service": "web"}))
    run.silence(["dedup_key=x"], 60)  # matches nothing: only to show it is ignored
    run.silence(["service=db"], 60)
    run.send(alert("b"), when=at(1))
    run.send(alert("b", severity="critical"), when=at(2))
    # b was silenced when it arrived; its silence outlasts the repeat.
    assert run.reasons() == ["opened"]
    assert run.suppressed() == [("b", "silenced")]


def test_pages_follow_policy_defaults():
    # The default policy has no storm and no group_wait: a first alert pages now.
    run = Run(policy())
    run.send(alert("a"))
    assert [(p.reason, p.at) for p in run.pages] == [("opened", at(0))]
