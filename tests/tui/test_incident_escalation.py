"""The incident view's escalation clock and its keys: escalate, reassign, snooze."""

from __future__ import annotations

import re

from bus import wire
from bus.client import EngineClient
from tests.conftest import wait_for
from tests.tui.helpers import (
    console,
    open_incident,
    publish_alert,
    queue_row,
    shown,
    timeline,
    toasts,
)
from tui.dialogs import ReassignDialog, SnoozeDialog
from tui.incident import IncidentScreen

NEXT_LEVEL = re.compile(r"escalation db: level 2 of 2 in (\d+:\d\d(?::\d\d)?)$")
SNOOZED = re.compile(r"^snoozed: back to triggered in (\d+:\d\d(?::\d\d)?) ")
ACK_DUE = re.compile(r"paused while acknowledged.*back to triggered in (\d\d:\d\d)$")


def seconds_of(text: str) -> int:
    """`1:00:00` and `59:59` as seconds."""
    total = 0
    for part in text.split(":"):
        total = total * 60 + int(part)
    return total


def escalation_line(pilot, pattern: re.Pattern) -> re.Match | None:
    return pattern.search(shown(pilot.app, "#incident-escalation"))


async def incident_view(pilot, stack, service: str = "db") -> wire.IncidentSummary:
    """Open an incident on `service` and show it in the console."""
    await publish_alert(stack, "disk full", service, "critical")
    (incident,) = await open_incident(EngineClient(stack.nc))
    await wait_for(lambda: queue_row(pilot.app, incident.id))
    await pilot.press("enter")
    assert isinstance(pilot.app.screen, IncidentScreen)
    return incident


def events_of(pilot, kind: str) -> list[dict[str, str]]:
    return [row for row in timeline(pilot.app) if row["type"] == kind]


async def test_the_countdown_to_the_next_level_ticks_once_a_second(paging):
    client = EngineClient(paging.nc)
    async with console(paging.bus_url, "alice") as alice:
        incident = await incident_view(alice, paging)
        found = await wait_for(lambda: escalation_line(alice, NEXT_LEVEL))
        first = seconds_of(found.group(1))
        # Level 1 started when the incident opened; level 2 is an hour later.
        assert 3590 <= first <= 3600, found.group(0)
        view = await client.query(wire.GetEscalation(incident=incident.id))
        assert (view.next_level, view.levels) == (2, 2)

        def moved():
            match = escalation_line(alice, NEXT_LEVEL)
            return match if match and seconds_of(match.group(1)) < first else None

        later = await wait_for(moved, timeout=3)
        assert first - seconds_of(later.group(1)) <= 2


async def test_e_starts_the_next_level_now_and_the_policy_is_exhausted(paging):
    async with console(paging.bus_url, "alice") as alice:
        await incident_view(alice, paging)
        await wait_for(lambda: escalation_line(alice, NEXT_LEVEL))

        await alice.press("e")
        manual = await wait_for(
            lambda: [r for r in events_of(alice, "escalated") if r["actor"] == "alice"]
        )
        assert "level 2: carol" in manual[0]["text"]
        # Two levels, no repeat: after level 2 there is nothing left to climb.
        await wait_for(lambda: "exhausted" in shown(alice.app, "#incident-escalation"))
        assert shown(alice.app, "#incident-escalation") == (
            "escalation db: exhausted after 1 pass(es) of 2"
        )


async def test_R_reassigns_the_incident_to_the_person_picked(paging):
    client = EngineClient(paging.nc)
    async with console(paging.bus_url, "alice") as alice:
        incident = await incident_view(alice, paging)
        await alice.press("R")
        dialog = await wait_for(
            lambda: isinstance(alice.app.screen, ReassignDialog) and alice.app.screen
        )
        handles = [user.handle for user in dialog.users]
        assert handles == ["alice", "bob", "carol", "dave"]  # nobody owns it yet

        await alice.press(*["down"] * handles.index("dave"), "enter")
        assert isinstance(alice.app.screen, IncidentScreen)
        rows = await wait_for(lambda: events_of(alice, "reassigned"))
        assert rows[0]["actor"] == "alice"
        assert "to dave" in rows[0]["text"]
        await wait_for(lambda: "owner dave" in shown(alice.app, "#incident-place"))
        assert (await client.incident(incident.id)).incident.owner == "dave"


async def test_z_snoozes_an_acknowledged_incident_for_the_duration_typed(paging):
    client = EngineClient(paging.nc)
    async with console(paging.bus_url, "alice") as alice:
        incident = await incident_view(alice, paging)
        await wait_for(lambda: escalation_line(alice, NEXT_LEVEL))
        await alice.press("a")
        # The service's ack timeout starts counting: 30 minutes to resolve.
        ack_due = await wait_for(lambda: escalation_line(alice, ACK_DUE))
        assert 1790 <= seconds_of(ack_due.group(1)) <= 1800

        await alice.press("z")
        assert isinstance(alice.app.screen, SnoozeDialog)
        await alice.press("ctrl+u", *"1h30m", "enter")
        assert isinstance(alice.app.screen, IncidentScreen)
        rows = await wait_for(lambda: events_of(alice, "snoozed"))
        assert rows[0]["actor"] == "alice"
        snoozed = await wait_for(lambda: escalation_line(alice, SNOOZED))
        assert 5390 <= seconds_of(snoozed.group(1)) <= 5400
        view = await client.query(wire.GetEscalation(incident=incident.id))
        assert view.snoozed_until is not None and view.ack_due_at is None


async def test_a_refused_snooze_says_why_in_a_toast(paging):
    async with console(paging.bus_url, "alice") as alice:
        incident = await incident_view(alice, paging)
        await alice.press("z", "enter")  # triggered: the engine refuses
        reason = f"incident {incident.id} is triggered: acknowledge it first"
        await wait_for(lambda: any(reason in text for text in toasts(alice.app)))


async def test_an_incident_without_a_policy_says_no_escalation_runs(paging):
    async with console(paging.bus_url, "alice") as alice:
        await incident_view(alice, paging, service="checkout")
        await wait_for(
            lambda: "none running" in shown(alice.app, "#incident-escalation")
        )
