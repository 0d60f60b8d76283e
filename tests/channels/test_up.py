"""End to end on `warroom up`: pages out, answers back, all on the timeline."""

import html
import re
from datetime import UTC, datetime

import pytest

from bus import wire
from bus.client import EngineClient
from channels.worker import Retry
from tests.channels.conftest import ALICE_PHONE, BOB_PHONE, FROM_NUMBER
from tests.conftest import wait_for

PUSH_SMS_CALL = (
    "{high: [{method: push}, {method: sms, delay: 1s}, {method: phone, delay: 3s}]}"
)
CALL_ONLY = "{high: [{method: phone}]}"


async def open_incident(stack) -> wire.IncidentSummary:
    alert = wire.Alert(
        integration="scripts", source="test", dedup_key="disk-db3",
        severity="critical", title="disk full on db-3", labels={"service": "db"},
    )  # fmt: skip
    await stack.nc.jetstream().publish(wire.SUBJECT_ALERTS, wire.encode(alert))
    client = EngineClient(stack.nc)
    [incident] = await wait_for(lambda: client.incidents("open"))
    return incident


async def timeline(stack, incident: int, type_: str) -> list[wire.Event]:
    detail = await EngineClient(stack.nc).incident(incident)
    return [e for e in detail.timeline if e.type == type_]


def callback_base(stack) -> str:
    s = stack.settings
    return f"http://{s.http_host}:{s.http_port}/v1/plivo"


@pytest.mark.parametrize("rules", [PUSH_SMS_CALL])
async def test_push_then_sms_answered_with_a_short_code(stack, receiver, fake_plivo):
    incident = await open_incident(stack)
    opened = datetime.now(UTC)
    await wait_for(lambda: receiver.at("alice"))  # the push, at once
    [sms] = await wait_for(lambda: fake_plivo.messages, timeout=10)
    assert sms["dst"] == ALICE_PHONE and f"{incident.id}a" in sms["text"]

    status, reply = await fake_plivo.callback(
        f"{callback_base(stack)}/sms",
        {"From": ALICE_PHONE, "To": FROM_NUMBER, "Text": f"{incident.id}a"},
    )
    assert status == 200 and f"Incident {incident.id} acknowledged." in reply
    [acked] = await timeline(stack, incident.id, "acknowledged")
    assert acked.actor == "alice"

    # The call step was due 3 s after the page: it left the queue unsent.
    await wait_for(lambda: _steps_done(stack), timeout=10)
    assert (datetime.now(UTC) - opened).total_seconds() >= 2.5
    assert fake_plivo.calls == []
    notified = await wait_for(lambda: _notified(stack, incident.id, 2), timeout=10)
    assert [
        (e.data["method"], e.data["channel"], e.data["result"]) for e in notified
    ] == [
        ("push", "apprise", "delivered"),
        ("sms", "sms", "delivered"),
    ]


async def _notified(stack, incident: int, count: int):
    found = await timeline(stack, incident, "notified")
    return found if len(found) >= count else None


async def _steps_done(stack) -> bool:
    js = stack.nc.jetstream()
    stream = await js.stream_info("NOTIFY", subjects_filter=wire.SUBJECT_NOTIFY_STEPS)
    return not sum((stream.state.subjects or {}).values())


@pytest.mark.parametrize("rules", [CALL_ONLY])
async def test_a_call_answered_by_pressing_1(stack, fake_plivo):
    incident = await open_incident(stack)
    [call] = await wait_for(lambda: fake_plivo.calls)
    assert call["to"] == ALICE_PHONE

    # Plivo fetches the answer URL when Alice picks up...
    status, xml = await fake_plivo.callback(
        call["answer_url"],
        {"CallUUID": "c-1", "Direction": "outbound", "From": FROM_NUMBER,
         "To": ALICE_PHONE},
    )  # fmt: skip
    assert status == 200
    assert "critical, db, disk full on db-3, incident" in xml  # the service too
    action = re.search(r'<GetDigits action="([^"]+)"', xml).group(1)
    # ...and posts the digit she pressed to the GetDigits action.
    status, xml = await fake_plivo.callback(
        html.unescape(action),
        {"CallUUID": "c-1", "Digits": "1", "Direction": "outbound",
         "From": FROM_NUMBER, "To": ALICE_PHONE},
    )  # fmt: skip
    assert f"Incident {incident.id} acknowledged." in xml
    [acked] = await timeline(stack, incident.id, "acknowledged")
    assert acked.actor == "alice"
    [notified] = await wait_for(lambda: _notified(stack, incident.id, 1))
    assert (notified.data["channel"], notified.data["result"]) == ("voice", "delivered")


@pytest.mark.parametrize("rules", ["{high: [{method: push}]}"])
async def test_a_failing_provider_shows_its_retries_then_the_delivery(stack, receiver):
    stack.worker.retry = Retry(attempts=4, first=0.1, cap=0.5)  # quick backoff
    receiver.failures = 2  # the receiver is down for two attempts
    incident = await open_incident(stack)
    await wait_for(lambda: receiver.at("alice"), timeout=20)
    notified = await wait_for(lambda: _notified(stack, incident.id, 3), timeout=10)
    assert [(e.data["result"], e.data["attempt"]) for e in notified] == [
        ("failed", 1), ("failed", 2), ("delivered", 3),
    ]  # fmt: skip
    assert "will retry" in notified[0].text
    assert "json://" not in " ".join(e.text for e in notified)  # no secret


PUSH_AND_SMS = "{high: [{method: push}, {method: sms}]}"


@pytest.mark.parametrize(
    ("push_down", "escalates"),
    [
        # every method of Alice fails: Bob's level starts now, not in 10 minutes
        (True, True),
        # her SMS arrives though her push fails: she was reached, level 1 waits
        (False, False),
    ],
)
@pytest.mark.parametrize("rules", [PUSH_AND_SMS])
async def test_a_person_no_method_reaches_escalates_at_once(
    stack, receiver, fake_plivo, push_down, escalates
):
    stack.worker.retry = Retry(attempts=2, first=0.05, cap=0.1)
    receiver.failures = 100
    fake_plivo.failures = 2 if push_down else 0  # both of Alice's SMS attempts
    incident = await open_incident(stack)

    finals = await wait_for(lambda: _finals(stack, incident.id, "alice", 2), timeout=10)
    assert {e.data["method"] for e in finals} == {"push", "sms"}
    if escalates:
        [sms] = await wait_for(lambda: fake_plivo.messages, timeout=10)
        assert sms["dst"] == BOB_PHONE
    levels = await timeline(stack, incident.id, "escalated")
    assert [e.data["level"] for e in levels] == ([1, 2] if escalates else [1])
    if escalates:
        assert levels[1].data["reason"] == "delivery_failed"
        assert levels[1].text.endswith("every contact method of alice failed")


async def _finals(stack, incident: int, user: str, count: int):
    found = [
        e for e in await timeline(stack, incident, "notified")
        if e.data["user"] == user and e.data["final"]
    ]  # fmt: skip
    return found if len(found) >= count else None
