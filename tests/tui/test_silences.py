"""The silences screen, and what a silence does to the alerts it holds."""

from __future__ import annotations

from bus import wire
from bus.client import EngineClient
from tests.conftest import wait_for
from tests.tui.helpers import (
    console,
    open_incident,
    publish_alert,
    queue_row,
    rows_of,
    shown,
    toasts,
)
from tui.dialogs import SilenceDialog
from tui.incident import IncidentScreen
from tui.silences import SilencesScreen


async def test_a_silence_added_in_the_console_holds_alerts_until_expired(paging):
    client = EngineClient(paging.nc)
    async with console(paging.bus_url, "alice") as alice:
        await alice.press("s")
        assert isinstance(alice.app.screen, SilencesScreen)
        await wait_for(lambda: "0 active" in shown(alice.app, "#silences-summary"))
        await alice.press("a")
        assert isinstance(alice.app.screen, SilenceDialog)
        await alice.press(*"service=db", "enter", "ctrl+u", *"2h", "enter")
        await alice.press(*"disk swap", "enter")
        (row,) = await wait_for(lambda: rows_of(alice.app, "#silences"))
        assert (row["matchers"], row["created_by"], row["comment"]) == (
            "service=db",
            "alice",
            "disk swap",
        )
        assert row["ends_in"].startswith(("2:00:00", "1:59:5"))  # not expiring
        (silence,) = (await client.query(wire.ListSilences())).silences
        assert silence.created_by == "alice"

        # An alert it matches is stored, shown, and says why it did not page.
        await publish_alert(paging, "disk full", "db", "critical")
        (incident,) = await open_incident(client)
        await alice.press("escape")
        await wait_for(lambda: queue_row(alice.app, incident.id))
        await alice.press("enter")
        assert isinstance(alice.app.screen, IncidentScreen)
        (alert,) = await wait_for(lambda: rows_of(alice.app, "#alerts"))
        assert alert["paged"] == (
            f"held by silence: silence {silence.id} by alice (service=db): disk swap"
            f" until {silence.ends_at:%Y-%m-%d %H:%M}Z"
        )

        await alice.press("escape", "s")
        await wait_for(lambda: rows_of(alice.app, "#silences"))
        await alice.press("x")
        await wait_for(lambda: not rows_of(alice.app, "#silences"))
        assert (await client.query(wire.ListSilences())).silences == []
        await alice.press("escape", "enter")
        await wait_for(
            lambda: (
                [r["paged"] for r in rows_of(alice.app, "#alerts")]
                == ["paged after silenced"]
            )
        )


async def test_a_silence_dialog_without_a_comment_adds_nothing(paging):
    client = EngineClient(paging.nc)
    async with console(paging.bus_url, "alice") as alice:
        await alice.press("s", "a", *"service=db", "enter", "enter", "enter")
        assert isinstance(alice.app.screen, SilenceDialog)  # still asking
        await wait_for(lambda: any("needs a comment" in t for t in toasts(alice.app)))
        await alice.press("escape")
        assert isinstance(alice.app.screen, SilencesScreen)
        assert (await client.query(wire.ListSilences())).silences == []


async def test_a_silence_about_to_expire_is_highlighted_and_toasted(paging):
    client = EngineClient(paging.nc)
    async with console(paging.bus_url, "alice") as alice:
        await alice.press("s")
        # The engine warns 2 s before the end: 1 s after this one starts.
        short = await client.reply(
            wire.AddSilence(
                matchers=["service=db"], duration=3, comment="reboot", actor="bob"
            )
        )
        long = await client.reply(
            wire.AddSilence(
                matchers=["service=edge"], duration=7200, comment="move", actor="bob"
            )
        )
        await publish_alert(paging, "disk full", "db", "critical")  # held by it
        rows = await wait_for(
            lambda: (
                len(rows_of(alice.app, "#silences")) == 2
                and rows_of(alice.app, "#silences")
            )
        )
        expiring = {r["id"]: r["ends_in"].endswith("expiring") for r in rows}
        assert expiring == {str(short.silence.id): True, str(long.silence.id): False}
        assert "1 expiring soon" in shown(alice.app, "#silences-summary")

        text = await wait_for(
            lambda: [t for t in toasts(alice.app) if f"silence {short.silence.id}" in t]
        )
        assert "expires at" in text[0]
        # Once it has ended it leaves the list; the other stays.
        await wait_for(lambda: len(rows_of(alice.app, "#silences")) == 1, timeout=5)
        assert rows_of(alice.app, "#silences")[0]["matchers"] == "service=edge"
