"""Grouping: one incident per group, a window, a maximum size, group_wait."""

from __future__ import annotations

import pytest

from engine.core.policy import GroupRule
from tests.engine.core.driver import Run, alert, at, policy


def test_three_alerts_of_one_group_resolve_only_when_all_have():
    run = Run()
    run.send(*(alert(k, group_key="g1") for k in "abc"))
    run.send(alert("a", "resolved"), when=at(1))
    incident = run.incident_of("b")
    # One Alertmanager group is one incident; one recovery leaves it firing.
    assert len(run.state.incidents) == 1 and incident.state == "triggered"
    run.send(alert("b", "resolved"), alert("c", "resolved"), when=at(2))
    assert incident.state == "resolved" and incident.close_reason == "auto"
    # Only the first alert paged; the other two were grouped.
    assert run.reasons() == ["opened"]
    assert run.suppressed() == [("b", "grouped"), ("c", "grouped")]


def test_same_alert_name_in_two_groups_makes_two_incidents():
    run = Run()
    run.send(alert("a", group_key="g1"), alert("b", group_key="g2"))
    run.send(alert("a", "resolved"), when=at(1))
    # Different group keys never merge; resolving one leaves the other firing.
    assert run.incident_of("a").state == "resolved"
    assert run.incident_of("b").state == "triggered"
    assert run.reasons() == ["opened", "opened"]


@pytest.mark.parametrize(
    ("group_by", "second_labels", "incidents"),
    [
        # Grouped by cluster: the same cluster is the same problem.
        (("cluster",), {"service": "db", "cluster": "eu", "host": "2"}, 1),
        # Another cluster is another problem, even on the same service.
        (("cluster",), {"service": "db", "cluster": "us", "host": "1"}, 2),
        # `...` groups by every label: another host is another incident.
        (("...",), {"service": "db", "cluster": "eu", "host": "2"}, 2),
        # `...` with identical labels: one incident.
        (("...",), {"service": "db", "cluster": "eu", "host": "1"}, 1),
    ],
)
def test_route_group_by(group_by, second_labels, incidents):
    run = Run(policy(groups=(GroupRule(group_by=group_by),)))
    run.send(alert("a", labels={"service": "db", "cluster": "eu", "host": "1"}))
    run.send(alert("b", labels=second_labels))
    assert len(run.state.incidents) == incidents


def test_route_group_by_wins_over_the_source_group():
    run = Run(policy(groups=(GroupRule(group_by=("host",)),)))
    run.send(alert("a", group_key="g", labels={"service": "db", "host": "1"}))
    run.send(alert("b", group_key="g", labels={"service": "db", "host": "2"}))
    # The route asked for one incident per host; its config is the intent.
    assert len(run.state.incidents) == 2


def test_group_takes_no_alert_after_its_window():
    run = Run(policy(groups=(GroupRule(window=300),)))
    run.send(alert("a"))
    run.send(alert("b"), when=at(5))  # 300 s: still inside
    run.send(alert("c"), when=at(5.1))  # 306 s: a new incident
    assert [run.incident_of(k).id for k in "abc"] == [1, 1, 2]


def test_full_group_says_so_and_the_next_alert_starts_a_new_incident():
    run = Run(policy(groups=(GroupRule(max_alerts=2),)))
    run.send(alert("a"), alert("b"), alert("c"))
    full = [e for e in run.events if e.type == "group_full"]
    # The second alert filled incident 1; the third opened incident 2 and paged.
    assert [(e.incident_id, e.data["max_alerts"]) for e in full] == [(1, 2)]
    assert run.incident_of("c").id == 2
    assert run.reasons() == ["opened", "opened"]


def test_group_wait_makes_a_burst_one_page_after_the_wait():
    run = Run(policy(groups=(GroupRule(group_wait=30),)))
    run.send(alert("a"), when=at(0))
    run.send(alert("b", severity="critical"), when=at(0.2))
    # Nothing yet: the first page waits 30 s for the rest of the burst,
    # and the raised severity is covered by that page.
    assert run.pages == []
    run.until(at(1))
    assert [(p.reason, p.at) for p in run.pages] == [("opened", at(0.5))]


def test_incident_resolved_during_group_wait_pages_nobody():
    run = Run(policy(groups=(GroupRule(group_wait=30),)))
    run.send(alert("a"))
    run.send(alert("a", "resolved"), when=at(0.2))
    run.until(at(5))
    # A blip shorter than group_wait is on the timeline and woke nobody.
    assert run.pages == []
    assert run.incident_of("a").state == "resolved"
