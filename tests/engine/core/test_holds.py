"""Maintenance windows, silences and inhibition: held, recorded, released."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from engine.core import incident as core
from engine.core import maintenance, silence
from engine.core.matchers import parse_matcher
from engine.core.policy import InhibitRule, MaintenanceWindow, ServiceNoise
from tests.engine.core.driver import Run, alert, at, policy

BERLIN = ZoneInfo("Europe/Berlin")
# Saturday 23:00 to 02:00 in Berlin (UTC+1 in March).
NIGHT = MaintenanceWindow(frozenset({5}), time(23, 0), time(2, 0), BERLIN)


@pytest.mark.parametrize(
    ("utc", "end"),
    [
        # Saturday 22:30 UTC is 23:30 in Berlin: inside, ends Sunday 02:00 Berlin.
        (datetime(2026, 3, 14, 22, 30, tzinfo=UTC), datetime(2026, 3, 15, 1, 0)),
        # Sunday 00:59 UTC is 01:59 Berlin: still Saturday's window, past midnight.
        (datetime(2026, 3, 15, 0, 59, tzinfo=UTC), datetime(2026, 3, 15, 1, 0)),
        # Sunday 01:00 UTC is 02:00 Berlin: the window has just ended.
        (datetime(2026, 3, 15, 1, 0, tzinfo=UTC), None),
        # Saturday 21:59 UTC is 22:59 Berlin: not started yet.
        (datetime(2026, 3, 14, 21, 59, tzinfo=UTC), None),
        # Friday 23:30 Berlin: the right time on a day the window does not run.
        (datetime(2026, 3, 13, 22, 30, tzinfo=UTC), None),
    ],
)
def test_maintenance_window_in_its_time_zone(utc, end):
    found = maintenance.window_end(NIGHT, utc)
    assert (found.astimezone(UTC).replace(tzinfo=None) if found else None) == end


def test_alert_in_maintenance_is_held_and_pages_when_the_window_ends():
    window = MaintenanceWindow(frozenset({1}), time(6, 0), time(7, 0), UTC)
    run = Run(policy(services={"db": ServiceNoise(maintenance=(window,))}))
    run.send(alert("a"), when=at(10))  # Tuesday 06:10 UTC: inside
    run.send(alert("b", labels={"service": "web"}), when=at(11))  # not db: pages
    assert run.suppressed() == [("a", "maintenance")]
    assert [p.incident_id for p in run.pages] == [2]
    run.until(at(61))
    # At 07:00 the window ends with a still firing: its quiet incident pages.
    assert run.reasons() == ["opened", "maintenance_ended"]
    assert run.incident_of("a").alerts[("prom", "a")].paged


def test_silenced_alert_is_stored_shown_warned_and_released():
    run = Run()
    run.silence(["service=db", "severity=~warning|info"], 120)
    critical = alert("c", severity="critical", labels={"service": "web"})
    run.send(alert("a"), critical, when=at(5))
    held = run.incident_of("a").alerts[("prom", "a")]
    # Stored with its hold; the critical web alert matches no silence and pages.
    assert held.hold["reason"] == "silenced" and held.hold["ref"] == "silence:1"
    assert [p.incident_id for p in run.pages] == [run.incident_of("c").id]
    run.until(at(119))
    warned = [e for e in run.events if e.type == "silence_expiring"]
    # Ten minutes before the end (the default warning), on a's incident.
    assert [(e.at, e.incident_id) for e in warned] == [(at(110), held.incident_id)]
    run.until(at(121))
    # At the end a still fires and its incident never paged: it pages now.
    assert run.reasons() == ["opened", "silence_ended"]


def test_expired_silence_releases_at_once_and_its_old_timers_do_nothing():
    run = Run()
    number = run.silence(["service=db"], 120)
    run.send(alert("a"), when=at(1))
    _, effects = silence.expire(run.state, number, "alice", at(2), run.policy)
    run._take(effects)
    run.until(at(200))
    # One release page, at the expiry; the warning and end timers find nothing.
    assert [(p.reason, p.at) for p in run.pages] == [("silence_ended", at(2))]
    assert not [e for e in run.events if e.type == "silence_expiring"]


@pytest.mark.parametrize(
    ("matchers", "minutes", "comment", "actor", "refusal"),
    [
        # Nothing to match would silence everything: refused.
        ([], 60, "x", "alice", "at least one matcher"),
        # A broken regular expression says what is wrong.
        (["service=~("], 60, "x", "alice", "bad regular expression"),
        # A silence nobody can explain later is refused.
        (["service=db"], 60, " ", "alice", "needs a comment"),
        # Only configured users silence.
        (["service=db"], 60, "x", "mallory", "unknown user"),
        # A window must have a length.
        (["service=db"], 0, "x", "alice", "duration above zero"),
    ],
)
def test_silences_that_do_not_apply_are_refused(
    matchers, minutes, comment, actor, refusal
):
    run = Run()
    with pytest.raises(core.Refused, match=refusal):
        silence.add(
            run.state, matchers, minutes * 60, comment, actor, at(0), run.policy
        )


DC_DOWN = InhibitRule(
    source=(parse_matcher("alertname=DatacenterDown"),),
    target=(parse_matcher("severity=~warning|error"),),
    equal=("dc",),
    name="inhibit_rules[0]",
)


def dc_alert(key: str, dc: str, **fields):
    labels = {"service": "db", "alertname": fields.pop("name", "Disk"), "dc": dc}
    return alert(key, labels=labels, **fields)


def test_targets_are_held_on_the_source_incident_and_page_when_it_recovers():
    run = Run(policy(inhibit_rules=(DC_DOWN,)))
    run.send(dc_alert("dc", "fra", name="DatacenterDown", severity="critical"))
    run.send(dc_alert("t1", "fra", group_key="g"), when=at(1))
    run.send(dc_alert("t2", "fra", group_key="g"), when=at(1))
    run.send(dc_alert("t3", "ams", group_key="h"), when=at(1))
    source = run.incident_of("dc")
    # Same data centre: held and recorded on the source's incident. Another
    # data centre is another problem: it pages on its own.
    assert run.incident_of("t1") is source and run.incident_of("t2") is source
    assert run.suppressed() == [("t1", "inhibited"), ("t2", "inhibited")]
    assert run.reasons() == ["opened", "opened"]
    run.send(dc_alert("t2", "fra", status="resolved"), when=at(5))
    run.send(dc_alert("dc", "fra", status="resolved"), when=at(9))
    # The cause recovered while t1 still fires: the incident pages again.
    assert run.reasons() == ["opened", "opened", "inhibition_ended"]
    assert source.state == "triggered"


def test_a_source_never_inhibits_itself():
    rule = InhibitRule((parse_matcher("service=db"),), (parse_matcher("service=db"),))
    run = Run(policy(inhibit_rules=(rule,)))
    run.send(alert("a"))
    assert run.reasons() == ["opened"]
