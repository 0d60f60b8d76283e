"""The gateway answers 202 once stored, 4xx naming each problem, 503 without a bus."""

from __future__ import annotations

import pytest

from bus.server import EmbeddedServer
from tests.conftest import (
    AM_TOKEN,
    GENERIC_TOKEN,
    PAYLOADS,
    REAL,
    free_port,
    gateway_url,
    wait_for,
)
from warroom.stack import Settings, Stack

GOOD = (REAL / "alertmanager-webhook-firing-single.json").read_bytes()


async def stream_messages(stack: Stack, name: str = "ALERTS") -> int:
    info = await stack.nc.jetstream().stream_info(name)
    return info.state.messages


@pytest.mark.parametrize(
    ("token", "body", "status", "mentions"),
    [
        # A proxy cut the body: invalid JSON, with where it broke.
        (
            AM_TOKEN,
            (PAYLOADS / "alertmanager/malformed-truncated.json").read_bytes(),
            400,
            ["invalid JSON at line", "column"],
        ),
        # Nobody configured this token: say so, and nothing else.
        ("not-a-configured-token-123", GOOD, 404, ["unknown integration token"]),
        # Valid JSON of the wrong shape names the field.
        (AM_TOKEN, b'{"alerts": [{"status": "firing"}]}', 422, ["alerts[0]", "labels"]),
        (AM_TOKEN, b'{"alerts": "none"}', 422, ["alerts: expected `array`"]),
        (AM_TOKEN, b"[1, 2]", 422, ["expected `object`"]),
        # Alertmanager says firing or resolved, never anything else.
        (
            AM_TOKEN,
            b'{"alerts": [{"status": "bad", "labels": {"a": "b"}}]}',
            422,
            ["alerts[0].status: expected 'firing' or 'resolved'"],
        ),
        (
            AM_TOKEN,
            b'{"alerts": [{"status": "firing", "labels": {"a": "b"}, '
            b'"startsAt": "soon"}]}',
            422,
            ["alerts[0].startsAt: not a time"],
        ),
        # The generic schema reports every bad field at once.
        (
            GENERIC_TOKEN,
            (
                PAYLOADS / "generic/malformed-missing-check-wrong-types.json"
            ).read_bytes(),
            422,
            [
                "missing required field 'check'",
                "state must be 'problem' or 'ok'",
                "severity must be one of critical|error|warning|info (got integer 3)",
                "ts is not an epoch number or ISO-8601 time",
            ],
        ),
        # Over 1 MiB is refused before it is parsed.
        (
            AM_TOKEN,
            b'{"alerts": [], "pad": "' + b"x" * (1024 * 1024) + b'"}',
            413,
            ["body over"],
        ),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_stored(
    stack, http, token, body, status, mentions
):
    async with http.post(gateway_url(stack, token), data=body) as response:
        assert response.status == status
        answer = await response.json()
    text = " ".join([answer["error"], *answer.get("problems", [])])
    for mention in mentions:
        assert mention in text, text
    assert token not in text  # a token is a secret, never echoed
    assert await stream_messages(stack) == 0
    # The gateway goes on serving.
    async with http.post(gateway_url(stack), data=GOOD) as response:
        assert response.status == 202
    assert await stream_messages(stack) == 1


async def test_unknown_routes_and_methods_answer_json(stack, http):
    base = f"http://127.0.0.1:{stack.settings.http_port}"
    async with http.get(f"{base}/v1/integrations/{AM_TOKEN}") as response:
        assert response.status == 405
        assert "error" in await response.json()
    async with http.get(f"{base}/nothing") as response:
        assert response.status == 404


async def test_healthz(stack, http):
    async with http.get(
        f"http://127.0.0.1:{stack.settings.http_port}/healthz"
    ) as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def test_bus_outage_is_503_then_recovers(tmp_path, config, http, caplog):
    caplog.set_level("INFO")
    server = EmbeddedServer(tmp_path / "external", port=free_port())
    await server.start()
    settings = Settings(
        config=config,
        data_dir=tmp_path / "data",
        nats_url=server.url,
        http_port=0,
    )
    stack = Stack(settings)
    await stack.start()
    try:
        await server.stop()
        await wait_for(lambda: not stack.nc.is_connected)
        async with http.post(gateway_url(stack), data=GOOD) as response:
            # The sender must retry: nothing was stored.
            assert response.status == 503
            assert "retry" in (await response.json())["error"]
        async with http.get(
            f"http://127.0.0.1:{stack.settings.http_port}/healthz"
        ) as response:
            assert response.status == 503
        await server.start()
        await wait_for(lambda: stack.nc.is_connected)
        async with http.post(gateway_url(stack), data=GOOD) as response:
            assert response.status == 202
        client_incidents = await wait_for(lambda: stack.store.incidents(None))
        assert client_incidents[0]["alert_count"] == 1
        # The outage was one line each way, not a wall of tracebacks.
        assert not [r for r in caplog.records if r.exc_info]
        assert "bus disconnected" in caplog.text and "bus reconnected" in caplog.text
    finally:
        await stack.stop()
        await server.stop()


async def test_tokens_never_reach_the_log(stack, http, caplog):
    caplog.set_level("DEBUG")
    wrong = "wrong-token-that-is-long-enough"
    async with http.post(gateway_url(stack, wrong), data=GOOD) as response:
        assert response.status == 404
    async with http.post(gateway_url(stack), data=b"{broken") as response:
        assert response.status == 400
    async with http.post(gateway_url(stack), data=GOOD) as response:
        assert response.status == 202
    await wait_for(lambda: stack.engine.processed == 1)
    text = caplog.text
    assert "payload rejected integration=prometheus" in text  # the log did run
    assert AM_TOKEN not in text and wrong not in text


async def test_a_huge_incident_still_opens_bounded_to_one_message(stack, http):
    import json

    from bus.client import EngineClient

    def body(start: int) -> bytes:
        alerts = [
            {"status": "firing", "fingerprint": f"big-{i}",
             "labels": {"alertname": "Big", "service": "db", "n": str(i)},
             "annotations": {f"a{k}": "x" * 16000 for k in range(4)}}
            for i in range(start, start + 6)
        ]  # fmt: skip
        return json.dumps({"groupKey": "big", "alerts": alerts}).encode()

    for start in (0, 6, 12):
        async with http.post(gateway_url(stack), data=body(start)) as response:
            assert response.status == 202
    client = EngineClient(stack.nc)
    found = await wait_for(lambda: stack.store.incidents(None))
    await wait_for(lambda: stack.engine.processed == 18)
    detail = await client.incident(found[0]["id"])
    # 18 alerts of 64 KB each do not fit one NATS message: the first ones do,
    # and the answer says how many were left out instead of timing out.
    assert detail.incident.alert_count == 18
    assert 0 < len(detail.alerts) < 18
    assert detail.alerts_omitted == 18 - len(detail.alerts)


async def test_a_sender_cannot_forge_log_lines(stack, http, caplog):
    import json

    from tests.conftest import SOURCE_TOKENS

    caplog.set_level("INFO")
    forged = "arn:x\n2026-12-04 15:10:00,000 ERROR engine.service FORGED"
    body = {"Type": "SubscriptionConfirmation", "TopicArn": forged, "Message": "m"}
    url = gateway_url(stack, SOURCE_TOKENS["cloudwatch_sns"])
    async with http.post(url, data=json.dumps(body)) as response:
        assert response.status == 202
    assert "payload ignored integration=cloudwatch" in caplog.text
    # The sender's newline stays inside the one log line, escaped.
    assert not any(
        "FORGED" in r.getMessage().split("\n", 1)[-1]
        for r in caplog.records
        if "\n" in r.getMessage()
    )
