"""Silences over the bus on a real stack: created, stored, shown, expired."""

from __future__ import annotations

import pytest

from bus import wire
from bus.client import CommandRefused, EngineClient
from tests.conftest import wait_for


def db_alert(key: str, severity: str) -> wire.Alert:
    return wire.Alert(
        integration="scripts", source="generic", dedup_key=key, severity=severity,
        title=f"{key} on db", labels={"service": "db"},
    )  # fmt: skip


async def held_alerts(client: EngineClient, incident_id: int) -> list[wire.AlertView]:
    return (await client.incident(incident_id)).alerts


async def test_silenced_alert_is_stored_shown_as_held_and_the_silence_expires(stack):
    client = EngineClient(stack.nc)
    command = wire.AddSilence(
        matchers=["service=db", "severity=~warning|info"], duration=7200,
        comment="replica rebuild", actor="alice",
    )  # fmt: skip
    silence = (await client.reply(command)).silence
    assert (silence.id, silence.active, silence.created_by) == (1, True, "alice")
    js = stack.nc.jetstream()
    await js.publish(wire.SUBJECT_ALERTS, wire.encode(db_alert("lag", "warning")))
    incidents = await wait_for(lambda: client.incidents("open"))
    alerts = await held_alerts(client, incidents[0].id)
    # Stored, not paged, and the show output says by which silence.
    assert [(a.paged, a.held_by, a.held_reason) for a in alerts] == [
        (False, "silence", "silenced")
    ]
    assert "silence 1 by alice" in alerts[0].held_detail
    listed = await client.query(wire.ListSilences())
    assert [s.id for s in listed.silences] == [1]

    await client.reply(wire.ExpireSilence(silence=1, actor="bob"))
    # Expired now: no longer active, and the quiet incident pages for it.
    assert (await client.query(wire.ListSilences())).silences == []
    every = await client.query(wire.ListSilences(all=True))
    assert [(s.expired_by, s.active) for s in every.silences] == [("bob", False)]
    timeline = (await client.incident(incidents[0].id)).timeline
    assert "released" in [e.type for e in timeline]


async def test_a_silence_without_a_comment_is_refused(stack):
    client = EngineClient(stack.nc)
    command = wire.AddSilence(
        matchers=["service=db"], duration=60, comment="", actor="alice"
    )
    # Nobody could tell later why it was there.
    with pytest.raises(CommandRefused, match="needs a comment"):
        await client.reply(command)
