"""The on-call screen, overrides from the console, and on-call on the wall."""

from __future__ import annotations

from bus import wire
from bus.client import EngineClient
from tests.conftest import wait_for
from tests.tui.helpers import console, rows_of, shown
from tui.dialogs import OverrideDialog
from tui.oncall import OnCallScreen
from tui.wall import WallScreen

# Keys of the responder that act; the wall must have none of them.
ACTION_IDS = {"acknowledge", "resolve", "note", "escalate", "reassign", "snooze"}
ACTION_IDS |= {"silences", "oncall", "override_add", "override_remove"}


async def oncall_now(client: EngineClient) -> dict[str, wire.OnCallView]:
    reply = await client.query(wire.GetOnCall())
    return {view.schedule: view for view in reply.schedules}


def by_schedule(app) -> dict[str, dict[str, str]]:
    return {row["schedule"]: row for row in rows_of(app, "#oncall")}


async def test_o_shows_who_is_on_call_now_and_next_in_every_schedule(paging):
    expected = await oncall_now(EngineClient(paging.nc))
    async with console(paging.bus_url, "alice") as alice:
        await alice.press("o")
        assert isinstance(alice.app.screen, OnCallScreen)
        rows = await wait_for(
            lambda: len(by_schedule(alice.app)) == 2 and by_schedule(alice.app)
        )

    # Each layer alternates its two members, so now and next differ.
    for name, members in (("primary", {"alice", "bob"}), ("web", {"carol", "dave"})):
        view = expected[name]
        assert {rows[name]["now"], rows[name]["next"]} == members
        assert (rows[name]["now"], rows[name]["next"]) == (
            view.current.user,
            view.next.user,
        )
        assert rows[name]["source"] == "layer 1"
        assert rows[name]["timezone"] == view.timezone


async def test_an_override_added_in_the_console_is_on_call_until_removed(paging):
    client = EngineClient(paging.nc)
    before = (await oncall_now(client))["primary"].current.user
    async with console(paging.bus_url, "alice") as alice:
        await alice.press("o")
        await wait_for(lambda: "primary" in by_schedule(alice.app))
        await alice.press("a")
        dialog = await wait_for(
            lambda: isinstance(alice.app.screen, OverrideDialog) and alice.app.screen
        )
        assert dialog.schedules == ["primary", "web"]
        users = [user.handle for user in dialog.users]

        # Enter on primary, dave, then from now, for 8h, replacing whoever is on.
        await alice.press("enter", *["down"] * users.index("dave"), "enter")
        await alice.press("enter", "enter", *before, "enter")
        assert isinstance(alice.app.screen, OnCallScreen)
        await wait_for(lambda: by_schedule(alice.app)["primary"]["now"] == "dave")
        (override,) = (await client.query(wire.ListOverrides())).overrides
        assert (override.user, override.author, override.replacing) == (
            "dave",
            "alice",
            before,
        )
        assert (
            8 * 3600 - 5 <= (override.end - override.start).total_seconds() <= 8 * 3600
        )
        row = by_schedule(alice.app)["primary"]
        assert row["source"] == f"override {override.id}, replacing {before}"
        (shown_override,) = rows_of(alice.app, "#overrides")
        assert (shown_override["user"], shown_override["author"]) == ("dave", "alice")

        await alice.press("x")
        await wait_for(lambda: by_schedule(alice.app)["primary"]["now"] == before)
        assert rows_of(alice.app, "#overrides") == []
        assert (await client.query(wire.ListOverrides())).overrides == []


async def test_the_wall_shows_who_is_on_call_and_has_no_keys_that_act(paging):
    expected = await oncall_now(EngineClient(paging.nc))
    async with (
        console(paging.bus_url, None, wall=True) as wall,
        console(paging.bus_url, "alice") as responder,
    ):
        acting = {b.binding.id for b in responder.app.active_bindings.values()}
        assert acting >= ACTION_IDS - {"override_add", "override_remove"}
        assert not ACTION_IDS & {
            b.binding.id for b in wall.app.active_bindings.values()
        }

        line = await wait_for(lambda: shown(wall.app, "#wall-oncall"))
        assert wall.app.screen.query_one("#wall-oncall").display
        for name in ("primary", "web"):
            assert f"{name}: {expected[name].current.user} until" in line
        await wall.press("o", "s", "e", "z", "R")
        assert isinstance(wall.app.screen, WallScreen)
