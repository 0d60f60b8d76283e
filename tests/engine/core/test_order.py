"""Order and reopen: source event time wins over arrival; a reopen window."""

from __future__ import annotations

import pytest

from engine.core import incident as core
from tests.engine.core.driver import Run, alert, at


def test_recovery_first_then_the_older_firing_changes_nothing():
    run = Run()
    run.send(alert("a", starts_at=at(0)), when=at(0))
    run.send(alert("a", "resolved", ends_at=at(10)), when=at(11))
    run.send(alert("a", starts_at=at(0)), when=at(12))  # a retry, late
    # The firing started before the recovery it arrives after: it is stale.
    assert run.incident_of("a").state == "resolved"
    assert run.reasons() == ["opened"]


def test_recovery_that_arrives_before_any_firing_keeps_the_older_firing_out():
    run = Run()
    effects = run.send(alert("a", "resolved", ends_at=at(5)), when=at(6))
    assert effects.orphans  # never seen fire: recorded as an orphan
    run.send(alert("a", starts_at=at(1)), when=at(7))
    # The firing is older than the recovery already seen: no incident, no page.
    assert run.state.incidents == {} and run.pages == []


def test_recovery_of_an_earlier_episode_does_not_resolve_the_current_one():
    run = Run()
    run.send(alert("a", starts_at=at(20)), when=at(20))
    run.send(alert("a", "resolved", ends_at=at(10)), when=at(21))
    assert run.incident_of("a").state == "triggered"


@pytest.mark.parametrize(
    ("fires_again_at", "reopened", "incidents"),
    [
        # 20 minutes after the recovery, inside the 30-minute window: reopens.
        (30, True, 1),
        # 40 minutes after: a new incident, because it is a new problem.
        (50, False, 2),
    ],
)
def test_resolved_incident_reopens_within_the_window(
    fires_again_at, reopened, incidents
):
    run = Run()
    run.send(alert("a"), when=at(0))
    run.send(alert("a", "resolved"), when=at(10))
    run.send(alert("a"), when=at(fires_again_at))
    assert ("reopened" in [e.type for e in run.events]) is reopened
    assert run.state.next_incident_id - 1 == incidents
    # Either way the firing pages: reopened or opened.
    assert run.reasons() == ["opened", "reopened" if reopened else "opened"]


def test_repeat_of_an_alert_resolved_by_a_person_starts_a_new_incident():
    run = Run()
    run.send(alert("a"))
    incident = run.incident_of("a")
    core.resolve(run.state, incident, "alice", "invalid", None, at(1), run.policy)
    run.send(alert("a"), when=at(2))
    # The alert never recovered, so it cannot "fire again": a person closed
    # the incident and the next firing is a new one.
    assert run.incident_of("a").id == 2 and incident.state == "resolved"
