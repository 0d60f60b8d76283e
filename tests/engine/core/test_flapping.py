"""Flapping: an alert that keeps changing state is muted until stable."""

from __future__ import annotations

from engine.core.policy import FlapRule
from tests.engine.core.driver import Run, alert, at, policy


def flap(run: Run, minutes: list[float]) -> None:
    """Fire at even positions and recover at odd ones."""
    for i, minute in enumerate(minutes):
        status = "firing" if i % 2 == 0 else "resolved"
        run.send(alert("a", status), when=at(minute))


def test_alert_changing_four_times_in_an_hour_stops_paging():
    run = Run()
    flap(run, [0, 5, 10, 15, 20, 25, 30])
    # Changes 1 (fire) and 3 (fire, reopen) page; change 4 (a recovery)
    # marks it flapping, so the firings at 20 and 30 min are held.
    assert run.reasons() == ["opened", "reopened"]
    assert run.suppressed() == [("a", "flapping"), ("a", "flapping")]


def test_flapping_alert_pages_again_once_stable_for_the_mute():
    run = Run(policy(reopen_window=3600, flapping=FlapRule(4, 3600, 1800)))
    flap(run, [0, 5, 10, 15])
    # Muted 30 min after the last change (15 min): a firing at 44 min is held,
    # and it and its recovery at 45 are changes, so the mute runs on to 75.
    run.send(alert("a"), when=at(44))
    run.send(alert("a", "resolved"), when=at(45))
    run.send(alert("a"), when=at(74))
    run.send(alert("a", "resolved"), when=at(74.5))
    assert run.reasons() == ["opened", "reopened"]
    # Stable from 74.5 for 30 minutes: the firing at 105 pages (a reopen,
    # 30.5 min after the last recovery, inside the hour's reopen window).
    run.send(alert("a"), when=at(105))
    assert run.reasons() == ["opened", "reopened", "reopened"]


def test_flapping_off_for_a_service_pages_every_firing():
    from engine.core.policy import ServiceNoise

    rules = policy(services={"db": ServiceNoise(flapping=FlapRule(changes=0))})
    run = Run(rules)
    flap(run, [0, 5, 10, 15, 20])
    assert run.reasons() == ["opened", "reopened", "reopened"]
