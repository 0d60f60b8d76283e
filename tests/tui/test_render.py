"""How an alert's paging and an incident's escalation read on screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from bus import wire
from tui.render import escalation_text, paged_text

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
INCIDENT = wire.IncidentSummary(
    id=7, title="disk full", severity="critical", state="triggered",
    service="db", team="database", owner=None, alert_count=1, created_at=NOW,
)  # fmt: skip


def alert(**fields) -> wire.AlertView:
    return wire.AlertView(
        integration="cli", source="cli", dedup_key="disk", status="firing",
        severity="critical", title="disk full", labels={}, annotations={},
        starts_at=NOW, ends_at=None, last_seen_at=NOW, count=1, **fields,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"paged": True}, "paged"),
        # Held, then released when the silence ended: it did page, later.
        (
            {"paged": True, "held_by": "silence", "held_reason": "silenced"},
            "paged after silenced",
        ),
        # The detail names the silence or rule; it is what a responder asks.
        (
            {"held_by": "grouping", "held_reason": "grouped", "held_detail": "x"},
            "held by grouping: x",
        ),
        ({"held_by": "storm", "held_reason": "storm"}, "held by storm: storm"),
        ({}, "-"),  # waiting for group_wait: neither paged nor held yet
    ],
)
def test_an_alert_says_whether_it_paged_or_what_held_it(fields, text):
    assert paged_text(alert(**fields)) == text


def view(**fields) -> wire.EscalationView:
    defaults = dict(incident=7, policy="db", next_level=2, levels=2, repeat=0)
    return wire.EscalationView(**{**defaults, "due_at": None, **fields})


@pytest.mark.parametrize(
    ("escalation", "text"),
    [
        (
            view(due_at=NOW + timedelta(minutes=5)),
            "escalation db: level 2 of 2 in 05:00",
        ),
        (
            view(due_at=NOW + timedelta(seconds=30), repeat=1, next_level=1),
            "escalation db: level 1 of 2, repeat 1 in 00:30",
        ),
        (
            view(next_level=None, exhausted=True),
            "escalation db: exhausted after 1 pass(es) of 2",
        ),
        # Acknowledged: the climb waits; the ack timeout has its own clock.
        (
            view(ack_due_at=NOW + timedelta(minutes=30)),
            "escalation db: paused while acknowledged; level 2 of 2 next;"
            " ack due: back to triggered in 30:00",
        ),
        # A snooze is the clock that matters while it runs.
        (
            view(snoozed_until=NOW + timedelta(minutes=15)),
            "snoozed: back to triggered in 15:00",
        ),
        (
            view(policy=None, next_level=None, levels=0),
            "escalation: none running (no policy for the service, or no page)",
        ),
        (None, "escalation: loading"),
    ],
)
def test_the_escalation_line_says_what_happens_next_and_when(escalation, text):
    # startswith: the snooze line ends with its end in the local zone.
    assert escalation_text(escalation, INCIDENT, NOW).startswith(text)


def test_a_resolved_incident_has_no_escalation_clock():
    resolved = msgspec.structs.replace(INCIDENT, state="resolved")
    assert escalation_text(view(due_at=NOW), resolved, NOW) == (
        "escalation: stopped, the incident is resolved"
    )
