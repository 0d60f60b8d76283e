"""Consoles driven by Pilot against one running stack, next to the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from textual.widgets import DataTable, Digits

from bus import wire
from bus.client import EngineClient
from tests.conftest import wait_for
from tests.tui.helpers import (
    GROUP3,
    RESOLVED,
    SINGLE,
    Relay,
    banner,
    console,
    post,
    publish_alert,
    queue_row,
    queue_table,
    table_rows,
    timeline,
    toasts,
    warroom,
)
from tui.dialogs import NoteDialog, ResolveDialog
from tui.incident import IncidentScreen
from tui.render import clock
from tui.wall import WallScreen

ACTION_IDS = {"acknowledge", "resolve", "note"}
STORM = 300  # alerts in one batch: one incident, over 300 events in a burst


def state_of(app, incident_id: int) -> str | None:
    return (queue_row(app, incident_id) or {}).get("state")


async def open_incidents(client: EngineClient, count: int):
    """Wait until the engine holds `count` open incidents; oldest first."""

    async def found():
        incidents = await client.incidents("open")
        return incidents if len(incidents) == count else None

    return sorted(await wait_for(found), key=lambda i: i.id)


async def test_ack_in_one_console_shows_in_the_other_with_who_and_when(stack, http):
    client = EngineClient(stack.nc)
    async with (
        console(stack.bus_url, "alice") as alice,
        console(stack.bus_url, "bob") as bob,
    ):
        await post(http, stack, GROUP3)
        (incident,) = await open_incidents(client, 1)
        await wait_for(lambda: queue_row(alice.app, incident.id))
        await wait_for(lambda: queue_row(bob.app, incident.id))
        await bob.press("enter")  # bob watches the incident's timeline live
        assert isinstance(bob.app.screen, IncidentScreen)

        await alice.press("a")
        rows = await wait_for(
            lambda: [r for r in timeline(bob.app) if r["type"] == "acknowledged"],
            timeout=1.0,
        )
        acknowledged = (await client.incident(incident.id)).incident
        assert rows[0]["actor"] == "alice"
        assert rows[0]["at"] == clock(acknowledged.acknowledged_at)
        assert state_of(bob.app, incident.id) == "acknowledged"
        assert queue_row(bob.app, incident.id)["owner"] == "alice"
        status = str(bob.app.screen.query_one("#incident-status").render())
        assert f"acknowledged by alice at {clock(acknowledged.acknowledged_at)}" in (
            status
        )


async def test_incident_view_follows_its_alerts_until_they_recover(stack, http):
    client = EngineClient(stack.nc)
    async with console(stack.bus_url, "alice") as alice:
        await post(http, stack, SINGLE)
        (incident,) = await open_incidents(client, 1)
        await wait_for(lambda: queue_row(alice.app, incident.id))
        await alice.press("enter")
        alerts = alice.app.screen.query_one("#alerts", DataTable)
        await wait_for(lambda: [r["status"] for r in table_rows(alerts)] == ["firing"])

        await post(http, stack, RESOLVED)
        await wait_for(
            lambda: [r["status"] for r in table_rows(alerts)] == ["resolved"]
        )
        types = [r["type"] for r in timeline(alice.app)]
        assert types[-2:] == ["alert_resolved", "resolved"]
        status = str(alice.app.screen.query_one("#incident-status").render())
        assert "resolved (auto)" in status


async def test_ack_from_the_command_line_shows_in_both_consoles(stack, http):
    client = EngineClient(stack.nc)
    async with (
        console(stack.bus_url, "alice") as alice,
        console(stack.bus_url, "bob") as bob,
    ):
        await post(http, stack, GROUP3)
        (incident,) = await open_incidents(client, 1)
        await wait_for(lambda: state_of(alice.app, incident.id) == "triggered")
        await wait_for(lambda: state_of(bob.app, incident.id) == "triggered")

        status, out, err = await warroom(
            "ack", str(incident.id), "--as", "carol", "--nats", stack.bus_url
        )
        assert status == 0, err
        assert "acknowledged by carol" in out
        for pilot in (alice, bob):
            await wait_for(
                lambda p=pilot: state_of(p.app, incident.id) == "acknowledged"
            )
            assert queue_row(pilot.app, incident.id)["owner"] == "carol"


async def test_console_started_late_shows_what_a_running_one_shows(stack, http):
    client = EngineClient(stack.nc)
    async with console(stack.bus_url, "alice") as early:
        await post(http, stack, GROUP3)  # critical, db
        await post(http, stack, SINGLE)  # critical, checkout
        await publish_alert(stack, "probe flapping", "edge", "warning")
        await publish_alert(stack, "replica lag", "db", "info")
        db, checkout, probe, lag = await open_incidents(client, 4)
        await client.command(wire.Ack(incident=db.id, actor="bob"))
        await client.command(
            wire.Resolve(incident=checkout.id, actor="carol", reason="duplicate")
        )
        await client.command(wire.AddNote(incident=probe.id, actor="dave", text="x"))
        await wait_for(lambda: state_of(early.app, checkout.id) == "resolved")
        await wait_for(lambda: state_of(early.app, db.id) == "acknowledged")

        async with console(stack.bus_url, "bob") as late:

            def shown(app):  # ages tick independently; everything else must match
                rows = table_rows(queue_table(app))
                return [{k: v for k, v in r.items() if k != "age"} for r in rows]

            await wait_for(lambda: shown(late.app) == shown(early.app), timeout=2)
        rows = shown(early.app)
        # Open first: the critical db incident, the warning, the info; then the
        # resolved checkout incident.
        assert [r["id"] for r in rows] == [
            str(i.id) for i in (db, probe, lag, checkout)
        ]
        assert [r["state"] for r in rows] == [
            "acknowledged",
            "triggered",
            "triggered",
            "resolved",
        ]
        assert rows[0]["owner"] == "bob"
        assert rows[0]["alerts"] == "3"


async def test_resolve_asks_for_the_close_reason_and_a_note(stack, http):
    client = EngineClient(stack.nc)
    async with console(stack.bus_url, "alice") as alice:
        await post(http, stack, GROUP3)
        (incident,) = await open_incidents(client, 1)
        await wait_for(lambda: queue_row(alice.app, incident.id))
        await alice.press("enter", "r")
        assert isinstance(alice.app.screen, ResolveDialog)

        # fixed, invalid, duplicate, maintenance: three down is maintenance.
        await alice.press("down", "down", "down", "tab", *"disk-swap", "enter")
        assert isinstance(alice.app.screen, IncidentScreen)
        rows = await wait_for(
            lambda: [r for r in timeline(alice.app) if r["type"] == "resolved"]
        )
        assert rows[0]["actor"] == "alice"
        assert "maintenance" in rows[0]["text"]
        notes = [r for r in timeline(alice.app) if r["type"] == "note"]
        assert [(n["actor"], n["text"]) for n in notes] == [("alice", "disk-swap")]
        resolved = (await client.incident(incident.id)).incident
        assert (resolved.state, resolved.close_reason) == ("resolved", "maintenance")
        await alice.press("escape")
        await wait_for(lambda: state_of(alice.app, incident.id) == "resolved")


async def test_escape_closes_the_resolve_dialog_without_resolving(stack, http):
    client = EngineClient(stack.nc)
    async with console(stack.bus_url, "alice") as alice:
        await post(http, stack, GROUP3)
        (incident,) = await open_incidents(client, 1)
        await wait_for(lambda: queue_row(alice.app, incident.id))
        await alice.press("r", "escape")
        assert not isinstance(alice.app.screen, ResolveDialog)
        # Had the dialog resolved it, this ack would be refused.
        await client.command(wire.Ack(incident=incident.id, actor="bob"))


async def test_note_dialog_adds_the_note_to_every_console(stack, http):
    client = EngineClient(stack.nc)
    async with (
        console(stack.bus_url, "alice") as alice,
        console(stack.bus_url, "bob") as bob,
    ):
        await post(http, stack, GROUP3)
        (incident,) = await open_incidents(client, 1)
        await wait_for(lambda: queue_row(alice.app, incident.id))
        await wait_for(lambda: queue_row(bob.app, incident.id))
        await bob.press("enter")
        await alice.press("n")
        assert isinstance(alice.app.screen, NoteDialog)

        # The keys that act (and quit) are text inside the dialog.
        await alice.press(*"quarantined-rnas", "enter")
        assert alice.app.is_running
        notes = await wait_for(
            lambda: [r for r in timeline(bob.app) if r["type"] == "note"]
        )
        assert [(n["actor"], n["text"]) for n in notes] == [
            ("alice", "quarantined-rnas")
        ]
        assert state_of(alice.app, incident.id) == "triggered"


async def test_refused_ack_becomes_a_toast_with_the_engines_reason(stack, http):
    client = EngineClient(stack.nc)
    async with console(stack.bus_url, "alice") as alice:
        await post(http, stack, GROUP3)
        (incident,) = await open_incidents(client, 1)
        await client.command(wire.Ack(incident=incident.id, actor="carol"))
        await wait_for(lambda: state_of(alice.app, incident.id) == "acknowledged")

        await alice.press("a")
        reason = f"incident {incident.id} is already acknowledged by carol"
        await wait_for(lambda: any(reason in text for text in toasts(alice.app)))
        assert alice.app.is_running
        assert queue_row(alice.app, incident.id)["owner"] == "carol"


async def test_wall_has_no_keys_that_act_and_counts_open_incidents(stack, http):
    client = EngineClient(stack.nc)
    async with (
        console(stack.bus_url, "alice", wall=True) as wall,
        console(stack.bus_url, "alice") as responder,
    ):
        acting = {b.binding.id for b in responder.app.active_bindings.values()}
        assert acting >= ACTION_IDS  # the responder has them: the check can fail
        bindings = wall.app.active_bindings
        assert not ACTION_IDS & {b.binding.id for b in bindings.values()}
        assert not {"a", "r", "n", "enter"} & set(bindings)

        await post(http, stack, GROUP3)
        (incident,) = await open_incidents(client, 1)
        await wait_for(lambda: queue_row(wall.app, incident.id))
        await wall.press("a", "r", "n", "enter")
        assert isinstance(wall.app.screen, WallScreen)  # no dialog, no incident view

        def count(name: str) -> str:
            return wall.app.screen.query_one(f"#digits-{name}", Digits).value

        assert (count("critical"), count("triggered")) == ("1", "1")
        await client.command(wire.Ack(incident=incident.id, actor="bob"))
        await wait_for(lambda: count("acknowledged") == "1")
        assert (count("critical"), count("triggered")) == ("1", "0")
        assert queue_row(wall.app, incident.id)["owner"] == "bob"


async def test_bus_outage_shows_a_banner_then_catches_up_from_a_snapshot(stack, http):
    relay = Relay(urlsplit(stack.bus_url).port)
    await relay.start()
    client = EngineClient(stack.nc)
    async with console(relay.url, "alice") as alice:
        await post(http, stack, GROUP3)
        (incident,) = await open_incidents(client, 1)
        await wait_for(lambda: state_of(alice.app, incident.id) == "triggered")
        assert banner(alice.app) is None

        await relay.cut()
        text = await wait_for(lambda: banner(alice.app))
        assert "bus connection lost" in text
        # The console misses this event: only a fresh snapshot can show it.
        await client.command(wire.Ack(incident=incident.id, actor="bob"))
        await alice.press("a")  # refused locally: the bus is down
        await wait_for(
            lambda: any("bus is disconnected" in t for t in toasts(alice.app))
        )

        await relay.start()
        await wait_for(lambda: alice.app.bus_state == "live", timeout=10)
        assert banner(alice.app) is None
        await wait_for(lambda: state_of(alice.app, incident.id) == "acknowledged")
        assert queue_row(alice.app, incident.id)["owner"] == "bob"
    await relay.cut()


async def test_a_storm_of_events_coalesces_into_few_refreshes(stack):
    client = EngineClient(stack.nc)
    seen: list[wire.Event] = []

    async def count(event: wire.Event) -> None:
        seen.append(event)

    await client.follow_events(count)
    async with console(stack.bus_url, "alice") as alice:
        queue = alice.app.screen
        refreshes = 0
        take_events = queue.take_events

        def counting(events: list[wire.Event]) -> None:
            nonlocal refreshes  # the app hands the screens each batch it applies
            refreshes += 1
            take_events(events)

        queue.take_events = counting
        now = datetime.now(UTC)
        storm = wire.AlertBatch(
            alerts=[
                wire.Alert(
                    integration="cli",
                    source="cli",
                    dedup_key=f"disk-{n}",
                    severity="warning",
                    title=f"disk {n} filling",
                    labels={"service": "db"},
                    starts_at=now,
                    received_at=now,
                )
                for n in range(STORM)
            ]
        )
        await stack.nc.jetstream().publish(wire.SUBJECT_ALERTS, wire.encode(storm))
        (incident,) = await open_incidents(client, 1)
        await wait_for(
            lambda: (
                (queue_row(alice.app, incident.id) or {}).get("alerts") == str(STORM)
            )
        )
        await wait_for(lambda: len(seen) >= STORM)
        # One refresh per event would be hundreds; ten a second is a handful.
        assert refreshes <= len(seen) // 10, (refreshes, len(seen))
