"""The console's board: the newest incident state wins, whatever the order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bus import wire
from tui.board import RECENT_RESOLVED, Board

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def summary(incident_id: int, last_event_id: int, **fields) -> wire.IncidentSummary:
    values = {
        "title": f"incident {incident_id}",
        "severity": "warning",
        "state": "triggered",
        "service": "db",
        "team": "database",
        "owner": None,
        "alert_count": 1,
        "created_at": T0,
    } | fields
    return wire.IncidentSummary(id=incident_id, last_event_id=last_event_id, **values)


def event(event_id: int, incident: wire.IncidentSummary) -> wire.Event:
    return wire.Event(
        id=event_id,
        incident_id=incident.id,
        type="note",
        at=T0,
        actor="alice",
        text="",
        incident=incident,
    )


def snapshot(last_event_id: int, *incidents: wire.IncidentSummary) -> wire.Snapshot:
    return wire.Snapshot(
        incidents=list(incidents), last_event_id=last_event_id, taken_at=T0
    )


TRIGGERED = summary(1, 3)
ACKED = summary(1, 5, state="acknowledged", owner="alice")


@pytest.mark.parametrize(
    ("steps", "expected_state"),
    [
        # The event after the snapshot's cut is newer: it wins.
        (["snapshot:triggered", "event:acked"], "acknowledged"),
        # The same event arrived before the snapshot reply: the older
        # snapshot entry must not undo it.
        (["event:acked", "snapshot:triggered"], "acknowledged"),
        # An event delivered twice changes nothing the second time.
        (["event:acked", "event:acked"], "acknowledged"),
        # An old event replayed after a newer snapshot is ignored.
        (["snapshot:acked", "event:triggered"], "acknowledged"),
    ],
)
def test_newest_incident_state_wins_in_any_order(steps, expected_state):
    board = Board()
    states = {"triggered": TRIGGERED, "acked": ACKED}
    for step in steps:
        kind, which = step.split(":")
        incident = states[which]
        if kind == "snapshot":
            board.merge(snapshot(incident.last_event_id, incident))
        else:
            board.apply_events([event(incident.last_event_id, incident)])
    assert board.incidents[1].state == expected_state


def test_snapshot_drops_what_it_no_longer_holds_but_keeps_newer_events():
    board = Board()
    board.apply_events([event(3, summary(1, 3)), event(9, summary(2, 9))])
    # Incident 1 left the snapshot (resolved long ago) as of event 6; incident
    # 2 changed at event 9, after the snapshot's cut, so the board keeps it.
    board.merge(snapshot(6, summary(3, 6)))
    assert sorted(board.incidents) == [2, 3]


def test_queue_order_is_open_first_by_severity_then_oldest():
    board = Board()
    board.merge(
        snapshot(
            10,
            summary(1, 1, severity="warning", created_at=T0),
            summary(2, 2, severity="critical", created_at=T0 + timedelta(minutes=5)),
            summary(3, 3, severity="critical", created_at=T0),
            summary(4, 4, severity="critical", state="resolved"),
            summary(5, 5, severity="info", state="resolved"),
            summary(6, 6, severity="info", state="acknowledged"),
        )
    )
    # Open: critical 3 (older) before critical 2, then warning, then info;
    # resolved follow, most recent first, whatever their severity.
    assert [i.id for i in board.ordered()] == [3, 2, 1, 6, 5, 4]
    assert [i.id for i in board.ordered(open_only=True)] == [3, 2, 1, 6]


def test_board_keeps_as_many_resolved_incidents_as_a_snapshot_holds():
    board = Board()
    count = RECENT_RESOLVED + 5
    board.apply_events(
        [event(n, summary(n, n, state="resolved")) for n in range(1, count + 1)]
    )
    board.apply_events([event(count + 1, summary(count + 1, count + 1))])
    resolved = sorted(i for i, s in board.incidents.items() if s.state == "resolved")
    assert resolved == list(range(6, count + 1))  # the newest ones, by id
    assert count + 1 in board.incidents


def test_counts_open_incidents_by_severity_and_state():
    board = Board()
    board.merge(
        snapshot(
            4,
            summary(1, 1, severity="critical"),
            summary(2, 2, severity="critical", state="acknowledged"),
            summary(3, 3, severity="info"),
            summary(4, 4, severity="error", state="resolved"),
        )
    )
    counts = board.counts()
    assert counts.by_severity == {"critical": 2, "error": 0, "warning": 0, "info": 1}
    assert counts.by_state == {"triggered": 2, "acknowledged": 1}
