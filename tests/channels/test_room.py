"""A team's chat room told the incident's life, through real apprise."""

import logging
from datetime import UTC, datetime

import pytest

from bus import wire
from bus.client import EngineClient
from channels.contacts import Book, Method
from channels.room import RoomFollower, message_of
from channels.worker import Retry
from engine.config import parse_config
from tests.conftest import TEST_CONFIG, wait_for
from warroom.stack import Stack

ROOM = "room-database-tok9f8e7d6c5b4a"  # the path is the room's secret
NOW = datetime(2025, 1, 1, tzinfo=UTC)
FAST = Retry(attempts=3, first=0.01, cap=0.01)


@pytest.fixture
def config(receiver):
    """The database team has a room; the web team has none."""
    text = TEST_CONFIG.replace(
        "database: {members: [alice, bob]}",
        f"database: {{members: [alice, bob], chat_room: '{receiver.url(ROOM)}'}}",
    )
    return parse_config(text, "test.yaml")


def summary(**changes) -> wire.IncidentSummary:
    fields = dict(
        id=42, title="disk full on db-3", severity="critical", state="triggered",
        service="orders-db", team="database", owner=None, alert_count=1,
        created_at=NOW,
    )  # fmt: skip
    return wire.IncidentSummary(**(fields | changes))


def event(type_: str, actor: str = "engine", **data) -> wire.Event:
    return wire.Event(
        id=1, incident_id=42, type=type_, at=NOW, actor=actor, text="",
        data=data, incident=summary(),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # The headline a responder would page with: severity, service, title.
        (event("opened"), "#42 opened: critical orders-db — disk full on db-3"),
        (event("reopened"), "#42 reopened: critical orders-db — disk full on db-3"),
        (event("acknowledged", "alice"), "#42 acknowledged by alice"),
        (
            event("escalated", level=2, people=[{"user": "bob", "why": "level"}]),
            "#42 escalated to level 2: bob",
        ),
        # A level that resolved to nobody is still news to the room.
        (
            event("escalated", level=3, people=[]),
            "#42 escalated to level 3: nobody, skipped",
        ),
        (event("resolved", "bob", close_reason="fixed"), "#42 resolved (fixed) by bob"),
        # Nobody resolved it: every alert recovered.
        (
            event("resolved", "auto", close_reason="auto"),
            "#42 resolved (auto): every alert recovered",
        ),
        # The engine pages the room itself when the policy is exhausted.
        (event("escalation_exhausted"), None),
        (event("alert_added"), None),
        (event("notified"), None),
    ],
)
def test_each_step_of_an_incident_is_one_short_line(given, expected):
    assert message_of(given) == expected


def room_lines(receiver) -> list[str]:
    return [body["message"] for body in receiver.at(ROOM)]


async def open_incident(stack, service: str, key: str) -> wire.IncidentSummary:
    alert = wire.Alert(
        integration="scripts", source="test", dedup_key=key, severity="critical",
        title=f"{key} is down", labels={"service": service},
    )  # fmt: skip
    await stack.nc.jetstream().publish(wire.SUBJECT_ALERTS, wire.encode(alert))
    client = EngineClient(stack.nc)
    found = await wait_for(
        lambda: _incident_of(client, service), timeout=10
    )  # an incident of that service
    return found


async def _incident_of(client, service):
    incidents = await client.incidents("open")
    return next((i for i in incidents if i.service == service), None)


async def test_opened_acknowledged_resolved_reach_the_room_in_order(stack, receiver):
    incident = await open_incident(stack, "db", "disk-db3")
    client = EngineClient(stack.nc)
    await client.command(wire.Ack(incident=incident.id, actor="alice"))
    await client.command(
        wire.Resolve(incident=incident.id, actor="bob", reason="fixed")
    )

    n = incident.id
    await wait_for(lambda: len(room_lines(receiver)) >= 3, timeout=10)
    assert room_lines(receiver) == [
        f"#{n} opened: critical db — disk-db3 is down",
        f"#{n} acknowledged by alice",
        f"#{n} resolved (fixed) by bob",
    ]


async def test_a_team_without_a_room_is_not_told(stack, receiver):
    await open_incident(stack, "checkout", "web-down")  # team web: no room
    database = await open_incident(stack, "db", "disk-db3")

    # One event at a time, in stream order: the web incident went by first.
    await wait_for(lambda: room_lines(receiver), timeout=10)
    assert room_lines(receiver) == [
        f"#{database.id} opened: critical db — disk-db3 is down"
    ]
    assert {path for path, _ in receiver.received} == {f"/{ROOM}"}


async def test_a_restarted_up_posts_only_what_is_new(stack, receiver):
    incident = await open_incident(stack, "db", "disk-db3")
    await EngineClient(stack.nc).command(wire.Ack(incident=incident.id, actor="alice"))
    await wait_for(lambda: len(room_lines(receiver)) >= 2, timeout=10)
    await stack.stop()

    again = Stack(stack.settings)
    await again.start()
    try:
        client = EngineClient(again.nc)
        await client.command(
            wire.Resolve(incident=incident.id, actor="bob", reason="fixed")
        )
        await wait_for(lambda: len(room_lines(receiver)) >= 3, timeout=10)
        stream = await again.nc.jetstream().stream_info("EVENTS")
    finally:
        await again.stop()
    assert stream.state.messages > 3  # the old events were there to re-post
    assert room_lines(receiver) == [
        f"#{incident.id} opened: critical db — disk-db3 is down",
        f"#{incident.id} acknowledged by alice",
        f"#{incident.id} resolved (fixed) by bob",
    ]


async def follower_on(bus, receiver, retry=FAST) -> RoomFollower:
    nc, js = bus
    room = Method("room", "apprise", receiver.url(ROOM))
    follower = RoomFollower(nc, js, Book(rooms={"database": room}), retry=retry)
    await follower.start()
    return follower


async def publish(bus, *events: wire.Event) -> None:
    _, js = bus
    for found in events:
        await js.publish(wire.event_subject(found.incident_id), wire.encode(found))


async def test_a_failing_room_is_retried_and_logged_without_its_url(
    bus, receiver, caplog
):
    caplog.set_level(logging.DEBUG, logger="channels")
    caplog.set_level(logging.INFO)
    follower = await follower_on(bus, receiver)
    receiver.failures = 2  # FAST gives three attempts: the third one lands
    try:
        await publish(bus, event("acknowledged", "alice"))
        await wait_for(lambda: room_lines(receiver), timeout=10)
    finally:
        await follower.stop()
    assert room_lines(receiver) == ["#42 acknowledged by alice"]
    assert "room message failed" in caplog.text
    assert "tok9f8e7d6c5b4a" not in caplog.text


async def test_a_room_down_past_the_bound_is_given_up_and_the_next_goes_on(
    bus, receiver, caplog
):
    caplog.set_level(logging.INFO)
    follower = await follower_on(bus, receiver)
    receiver.failures = FAST.attempts  # every attempt of the first event fails
    try:
        await publish(
            bus,
            event("acknowledged", "alice"),
            event("resolved", "bob", close_reason="fixed"),
        )
        await wait_for(lambda: room_lines(receiver), timeout=10)
    finally:
        await follower.stop()
    assert room_lines(receiver) == ["#42 resolved (fixed) by bob"]
    assert "room message given up incident=42" in caplog.text
    assert "tok9f8e7d6c5b4a" not in caplog.text
