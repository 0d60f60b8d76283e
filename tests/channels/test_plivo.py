"""The real plivo SDK against a local fake Plivo, and Plivo's callbacks."""

import logging
import re

import aiohttp
import pytest

from bus import wire
from bus.client import CommandRefused
from channels.contacts import Book, Method, Person
from channels.page import DeliveryFailed, Page
from channels.plivo import Account, PlivoCallbacks, PlivoSender
from engine.gateway import Gateway, serve
from tests.channels.conftest import (
    ALICE_PHONE,
    AUTH_ID,
    AUTH_TOKEN,
    FROM_NUMBER,
    plivo_signature,
)
from tests.conftest import free_port

PAGE = Page(42, "disk full on db-3", "critical")
SMS = Method("sms", "sms", ALICE_PHONE)
PHONE = Method("phone", "voice", ALICE_PHONE)


def account(fake_plivo, callback_url="http://127.0.0.1:9") -> Account:
    return Account(AUTH_ID, AUTH_TOKEN, FROM_NUMBER, callback_url, fake_plivo.url)


async def test_an_sms_carries_the_short_codes(fake_plivo):
    await PlivoSender(account(fake_plivo), "sms").send(SMS, PAGE)
    [message] = fake_plivo.messages
    assert message["src"] == FROM_NUMBER
    assert message["dst"] == ALICE_PHONE
    assert (
        "Reply 42a to acknowledge, 42e to escalate, 42r to resolve" in message["text"]
    )


async def test_a_call_points_plivo_at_the_answer_url(fake_plivo):
    sender = PlivoSender(account(fake_plivo, "https://warroom.example"), "voice")
    await sender.send(PHONE, PAGE)
    [call] = fake_plivo.calls
    assert call["to"] == ALICE_PHONE
    assert call["answer_url"].startswith(
        "https://warroom.example/v1/plivo/answer?incident=42&say="
    )


async def test_wrong_credentials_are_not_retried_and_stay_secret(fake_plivo):
    wrong = Account(AUTH_ID, "wrong-token-123456", FROM_NUMBER, "", fake_plivo.url)
    with pytest.raises(DeliveryFailed) as failed:
        await PlivoSender(wrong, "sms").send(SMS, PAGE)
    assert not failed.value.retryable
    assert "authentication failed" in failed.value.reason
    assert "wrong-token" not in failed.value.reason
    assert ALICE_PHONE not in failed.value.reason


async def test_a_server_error_is_retryable(fake_plivo):
    fake_plivo.failures = 1
    with pytest.raises(DeliveryFailed) as failed:
        await PlivoSender(account(fake_plivo), "sms").send(SMS, PAGE)
    assert failed.value.retryable
    assert fake_plivo.messages == []


# ---------------------------------------------------------------- callbacks


@pytest.fixture
async def gateway(config, fake_plivo):
    """The real gateway with Plivo's routes mounted; commands are recorded."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sent: list[wire.Command] = []

    async def send_command(command):
        sent.append(command)
        if command.incident == 404:
            raise CommandRefused("no incident 404")
        return wire.Reply(ok=True)

    people = {"alice": Person("alice", "Alice", {"sms": SMS, "phone": PHONE})}
    callbacks = PlivoCallbacks(account(fake_plivo, base), Book(people), send_command)
    gw = Gateway(config, publish=None, connected=lambda: True)
    gw.mounts.append(callbacks.mount)
    runner = await serve(gw, "127.0.0.1", port)
    try:
        yield base, sent, callbacks
    finally:
        await runner.cleanup()


async def test_answering_speaks_the_incident_and_gathers_a_digit(gateway, fake_plivo):
    base, _, _ = gateway
    status, xml = await fake_plivo.callback(
        f"{base}/v1/plivo/answer?incident=42&say=critical%2C%20disk%20full",
        {"CallUUID": "c1", "From": FROM_NUMBER, "To": ALICE_PHONE},
    )
    assert status == 200
    assert re.search(r'<GetDigits action="[^"]*/v1/plivo/digits\?incident=42"', xml)
    assert "critical, disk full. Press 1 to acknowledge" in xml


@pytest.mark.parametrize(
    ("digit", "kind"),
    [("1", wire.Ack), ("2", wire.Escalate), ("3", wire.Resolve)],
)
async def test_a_digit_acts_as_the_phones_owner(gateway, fake_plivo, digit, kind):
    base, sent, _ = gateway
    status, xml = await fake_plivo.callback(
        f"{base}/v1/plivo/digits?incident=42",
        {"Digits": digit, "Direction": "outbound", "From": FROM_NUMBER,
         "To": ALICE_PHONE},
    )  # fmt: skip
    assert status == 200
    [command] = sent
    assert isinstance(command, kind)
    assert (command.incident, command.actor) == (42, "alice")
    assert "<Speak>Incident 42 " in xml


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42a", wire.Ack),
        (" 42E ", wire.Escalate),  # phones capitalize and pad
        ("42r", wire.Resolve),
    ],
)
async def test_an_sms_short_code_acts_as_its_sender(
    gateway, fake_plivo, text, expected
):
    base, sent, _ = gateway
    status, xml = await fake_plivo.callback(
        f"{base}/v1/plivo/sms", {"From": ALICE_PHONE, "To": FROM_NUMBER, "Text": text}
    )
    assert status == 200
    [command] = sent
    assert isinstance(command, expected) and command.actor == "alice"
    assert f'dst="{ALICE_PHONE}"' in xml and "Incident 42 " in xml


async def test_anything_else_by_sms_gets_help(gateway, fake_plivo):
    base, sent, _ = gateway
    _, xml = await fake_plivo.callback(
        f"{base}/v1/plivo/sms", {"From": ALICE_PHONE, "Text": "what is this"}
    )
    assert sent == []
    assert "42a acknowledges" in xml


async def test_a_refused_command_is_said_back(gateway, fake_plivo):
    base, _, _ = gateway
    _, xml = await fake_plivo.callback(
        f"{base}/v1/plivo/sms", {"From": ALICE_PHONE, "Text": "404a"}
    )
    assert "Could not acknowledge incident 404: no incident 404." in xml


async def test_a_forged_callback_is_refused_and_logged(gateway, fake_plivo, caplog):
    base, sent, callbacks = gateway
    caplog.set_level(logging.WARNING, "channels.plivo")
    status, _ = await fake_plivo.callback(
        f"{base}/v1/plivo/sms", {"From": ALICE_PHONE, "Text": "42r"}, forged=True
    )
    assert status == 403
    assert sent == []
    assert callbacks.refused == 1
    assert "plivo callback refused path=/v1/plivo/sms reason=bad signature" in (
        caplog.text
    )
    assert AUTH_TOKEN not in caplog.text


async def test_a_replayed_callback_is_refused(gateway, fake_plivo):
    base, sent, _ = gateway
    url, form = f"{base}/v1/plivo/sms", {"From": ALICE_PHONE, "Text": "42a"}
    first, _ = await fake_plivo.callback(url, form, nonce="nonce-0001")
    again, _ = await fake_plivo.callback(url, form, nonce="nonce-0001")
    assert (first, again) == (200, 403)
    assert len(sent) == 1


async def test_a_callback_with_altered_parameters_is_refused(gateway, fake_plivo):
    # Signed for incident 42 and sent for incident 43: the signature covers
    # the query, so the change is caught.
    base, sent, _ = gateway
    params = {"Digits": "3", "Direction": "outbound", "To": ALICE_PHONE}
    signature = plivo_signature(
        AUTH_TOKEN, f"{base}/v1/plivo/digits?incident=42", params, "n-1"
    )
    headers = {"X-Plivo-Signature-V3": signature, "X-Plivo-Signature-V3-Nonce": "n-1"}
    async with aiohttp.ClientSession() as session:  # noqa: SIM117
        async with session.post(
            f"{base}/v1/plivo/digits?incident=43", data=params, headers=headers
        ) as response:
            assert response.status == 403
    assert sent == []
