"""Storms: 200 alerts with one cause make one page, and every alert is stored."""

from __future__ import annotations

from engine.core.policy import GroupRule, StormRule
from tests.engine.core.driver import Run, alert, at, policy


def burst(run: Run, count: int, per_second: float = 3.4) -> None:
    """`count` alerts of one service on distinct hosts within a minute."""
    for i in range(count):
        labels = {"service": "db", "host": f"db-{i}"}
        run.send(alert(f"h{i}", labels=labels), when=at(i / per_second / 60))


def test_200_alerts_grouped_by_service_are_one_incident_and_one_page():
    run = Run()
    burst(run, 200)
    # The default groups by service: one incident holds all 200.
    assert len(run.state.incidents) == 1
    assert run.state.incidents[1].alert_count == 200
    assert run.reasons() == ["opened"]


def test_200_alerts_one_incident_per_host_are_one_page_in_a_storm():
    rules = policy(
        groups=(GroupRule(group_by=("host",), group_wait=30),),
        storm=StormRule(threshold=20),
    )
    run = Run(rules)
    burst(run, 200)
    run.until(at(2))
    stored = sum(i.alert_count for i in run.state.incidents.values())
    storm = run.state.incidents[21]
    # All 200 stored: 20 incidents of their own before the threshold, then
    # the storm incident with the other 180 and a running count. The 20
    # first pages were still in group_wait, so the storm's page covers them.
    assert stored == 200 and len(run.state.incidents) == 21
    assert storm.alert_count == 180 and storm.title == "alert storm on db: 180 alerts"
    assert [(p.incident_id, p.reason) for p in run.pages] == [(21, "storm")]
    reasons = {r for _, r in run.suppressed()}
    assert reasons == {"storm"} and len(run.suppressed()) == 199


def test_without_a_storm_rule_every_host_pages():
    run = Run(policy(groups=(GroupRule(group_by=("host",)),)))
    burst(run, 50)
    # The contrast: no threshold, 50 incidents, 50 pages.
    assert len(run.pages) == 50


def test_storm_ends_when_the_rate_drops():
    rules = policy(groups=(GroupRule(group_by=("host",)),), storm=StormRule(10))
    run = Run(rules)
    burst(run, 15)
    labels = {"service": "db", "host": "late"}
    run.send(alert("late", labels=labels), when=at(3))
    # 11th to 15th joined the storm; three minutes later the rate is 1/min.
    assert run.incident_of("late").group_key != run.incident_of("h14").group_key
    assert len(run.pages) == 12  # ten hosts, the storm, the late one
