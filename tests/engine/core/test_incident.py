"""The incident state machine, driven with a fake clock and no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bus.wire import Alert
from engine.core import incident as core
from engine.core.matchers import parse_matcher
from engine.core.model import State
from engine.core.routing import Router

T0 = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


def policy(window: float = 600) -> core.Policy:
    router = Router(
        routes=((tuple([parse_matcher("service=~db|orders-db")]), "db"),),
        teams={"db": "database", "web": "webteam"},
        integration_services={},
        default_service="web",
    )
    return core.Policy(router, window, frozenset({"alice", "bob"}))


def alert(key: str, status: str = "firing", **fields) -> Alert:
    fields.setdefault("severity", "warning")
    fields.setdefault("title", f"alert {key}")
    fields.setdefault("labels", {"service": "db"})
    return Alert(
        integration="prom",
        source="alertmanager",
        dedup_key=key,
        status=status,
        **fields,
    )


def run(state: State, *alerts: Alert, at: datetime = T0, p=None):
    p = p or policy()
    events = []
    for a in alerts:
        events.extend(core.ingest(state, a, at, p).events)
    return events


def types(events) -> list[str]:
    return [e.type for e in events]


def test_first_alert_opens_a_routed_incident():
    state = State()
    events = run(state, alert("a"))
    # A new problem: the incident opens, is routed by the first route, and
    # holds its alert, in that order on the timeline.
    assert types(events) == ["opened", "routed", "alert_added"]
    incident = state.incidents[1]
    assert (incident.service, incident.team, incident.state) == (
        "db",
        "database",
        "triggered",
    )
    assert events[1].data["reason"].startswith("route 0")


def test_repeat_of_a_dedup_key_counts_without_an_event():
    state = State()
    run(state, alert("a"))
    events = run(state, alert("a"), alert("a"))
    # Nothing about the alert changed: the count goes up, the timeline stays quiet.
    assert events == []
    record = state.incidents[1].alerts[("prom", "a")]
    assert record.count == 3


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # Same group key: one Alertmanager group is one incident.
        ({"group_key": "g1"}, {"group_key": "g1"}, 1),
        # Different group keys never merge, even with the same alert name.
        ({"group_key": "g1"}, {"group_key": "g2"}, 2),
        # No group key: alerts of one service inside the window share an incident.
        ({}, {}, 1),
        # No group key and different services: different owners, two incidents.
        ({}, {"labels": {"service": "checkout"}}, 2),
    ],
)
def test_grouping(first, second, expected):
    state = State()
    run(state, alert("a", **first), alert("b", **second))
    assert len(state.incidents) == expected


def test_service_group_closes_after_its_window():
    state = State()
    run(state, alert("a"), at=T0)
    run(state, alert("b"), at=T0 + timedelta(seconds=601))
    # The window is 600 s: the second alert is a new incident.
    assert len(state.incidents) == 2


def test_incident_takes_the_highest_severity_of_its_alerts():
    state = State()
    events = run(
        state, alert("a", group_key="g"), alert("b", group_key="g", severity="critical")
    )
    assert state.incidents[1].severity == "critical"
    assert events[-1].type == "severity_changed"
    assert events[-1].data == {"before": "warning", "after": "critical"}


def test_incident_resolves_auto_only_when_every_alert_recovered():
    state = State()
    run(state, *(alert(k, group_key="g") for k in "abc"))
    run(state, alert("a", "resolved", group_key="g"))
    # One of three recovered: the incident is still firing.
    assert state.incidents[1].state == "triggered"
    events = run(state, alert("b", "resolved"), alert("c", "resolved"))
    assert types(events) == ["alert_resolved", "alert_resolved", "resolved"]
    assert events[-1].actor == "auto"
    assert events[-1].data["close_reason"] == "auto"
    assert state.open_by_group == {}


def test_recovery_for_a_key_never_seen_is_an_orphan():
    state = State()
    effects = core.ingest(state, alert("ghost", "resolved"), T0, policy())
    assert effects.orphans and not effects.events
    assert state.incidents == {}


def test_unrouted_alert_goes_to_the_default_service():
    state = State()
    run(state, alert("a", labels={"service": "unknown"}))
    # Every alert finds an owner: the default service when no route matches.
    assert state.incidents[1].service == "web"


def test_alert_that_fires_again_after_recovery_is_updated():
    state = State()
    run(state, alert("a", group_key="g"), alert("b", group_key="g"))
    run(state, alert("a", "resolved"))
    events = run(state, alert("a"))
    assert types(events) == ["alert_updated"]
    assert events[0].data["changes"] == {"status": "firing"}


# ---------------------------------------------------------------- commands


def opened(state: State):
    run(state, alert("a"))
    return state.incidents[1]


def test_acknowledge_sets_owner_and_time():
    state = State()
    incident = opened(state)
    later = T0 + timedelta(seconds=40)
    events = core.acknowledge(state, incident, "alice", later, policy()).events
    assert (incident.state, incident.owner, incident.acknowledged_at) == (
        "acknowledged",
        "alice",
        later,
    )
    assert events[0].type == "acknowledged" and events[0].actor == "alice"


@pytest.mark.parametrize(
    ("setup", "command", "reason"),
    [
        # A second acknowledgment names who holds it.
        (
            "ack",
            lambda s, i, p: core.acknowledge(s, i, "bob", T0, p),
            "already acknowledged by alice",
        ),
        # Resolving twice is refused, not silently accepted.
        (
            "resolve",
            lambda s, i, p: core.resolve(s, i, "bob", "fixed", None, T0, p),
            "already resolved",
        ),
        # `auto` is the engine's reason, never a person's.
        (
            None,
            lambda s, i, p: core.resolve(s, i, "bob", "auto", None, T0, p),
            "close reason must be",
        ),
        # Only configured users act.
        (
            None,
            lambda s, i, p: core.acknowledge(s, i, "mallory", T0, p),
            "unknown user 'mallory'",
        ),
        # An empty note says nothing.
        (
            None,
            lambda s, i, p: core.add_note(s, i, "bob", "  ", T0, p),
            "needs some text",
        ),
        # A resolved incident cannot be acknowledged.
        (
            "resolve",
            lambda s, i, p: core.acknowledge(s, i, "bob", T0, p),
            "is resolved",
        ),
    ],
)
def test_commands_that_do_not_apply_are_refused(setup, command, reason):
    state, p = State(), policy()
    incident = opened(state)
    if setup == "ack":
        core.acknowledge(state, incident, "alice", T0, p)
    elif setup == "resolve":
        core.resolve(state, incident, "alice", "fixed", None, T0, p)
    with pytest.raises(core.Refused, match=reason):
        command(state, incident, p)


def test_manual_resolve_records_reason_and_note_and_frees_the_group():
    state = State()
    incident = opened(state)
    events = core.resolve(
        state, incident, "bob", "invalid", "probe misfired", T0, policy()
    ).events
    assert types(events) == ["note", "resolved"]
    assert incident.close_reason == "invalid" and incident.owner == "bob"
    # A new firing of the same key after a manual resolve is a new incident.
    run(state, alert("a"))
    assert state.open_by_alert[("prom", "a")] == 2


def test_event_ids_increase_across_incidents():
    state = State()
    events = run(state, alert("a"), alert("b", labels={"service": "checkout"}))
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert state.incidents[2].last_event_id == ids[-1]


def test_pages_are_decided_on_open_and_on_a_raised_severity_only():
    state, p = State(), policy()
    first = core.ingest(state, alert("a", group_key="g"), T0, p)
    # A new incident pages; a second alert of lower or equal severity does not.
    assert [page.reason for page in first.pages] == ["opened"]
    assert core.ingest(state, alert("b", group_key="g"), T0, p).pages == []
    raised = core.ingest(state, alert("c", group_key="g", severity="critical"), T0, p)
    assert [page.reason for page in raised.pages] == ["severity_raised"]
    # A plain repeat never pages.
    assert (
        core.ingest(state, alert("c", group_key="g", severity="critical"), T0, p).pages
        == []
    )


def test_new_annotation_value_updates_the_alert_without_an_event():
    state = State()
    run(state, alert("a", annotations={"summary": "disk 91%"}))
    events = run(state, alert("a", annotations={"summary": "disk 97%"}))
    assert events == []
    assert state.incidents[1].alerts[("prom", "a")].annotations == {
        "summary": "disk 97%"
    }
