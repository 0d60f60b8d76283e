"""Every source through a running stack: incidents open and resolve; bad bodies
are dead-lettered without tokens and listed by `warroom rejected`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bus.client import EngineClient
from engine.gateway import Gateway, rejected_decoder, serve
from tests.conftest import (
    AM_TOKEN,
    GENERIC_TOKEN,
    SOURCE_TOKENS,
    free_port,
    gateway_url,
    wait_for,
)
from tests.engine.integrations.cases import encoded, fixture
from warroom.cli import main

TOKENS = {"alertmanager": AM_TOKEN, "generic": GENERIC_TOKEN, **SOURCE_TOKENS}
PD_TOKEN = SOURCE_TOKENS["pagerduty"]


def recovered_alertmanager(body: dict) -> dict:
    for alert in body["alerts"]:
        alert.update(status="resolved", endsAt="2024-06-03T15:00:00Z")
    return body


def recovered_nightingale(body: dict) -> dict:
    return {**body, "is_recovered": True, "last_eval_time": 1715138400}


def recovered_cloudwatch(body: dict) -> dict:
    alarm = json.loads(body["Message"])
    return {**body, "Message": json.dumps({**alarm, "NewStateValue": "OK"})}


# (integration, source, firing body, its recovery: a saved body or a change)
SOURCES: list[tuple[str, str, str, str | Callable[[dict], dict]]] = [
    ("prometheus", "alertmanager", "firing-single.json", recovered_alertmanager),
    ("grafana", "grafana", "firing-two-alerts.json", recovered_alertmanager),
    ("zabbix", "zabbix", "problem.json", "recovery.json"),
    ("n9e", "nightingale", "firing-unicode.json", recovered_nightingale),
    ("cloudwatch", "cloudwatch_sns", "alarm-http-envelope.json", recovered_cloudwatch),
    ("azure", "azure_monitor", "metric-fired.json", "metric-resolved.json"),
    ("gcp", "gcp_monitoring", "incident-open.json", "incident-closed.json"),
    ("datadog", "datadog", "triggered.json", "recovered.json"),
    ("kuma", "uptime_kuma", "down.json", "up.json"),
    ("pagerduty", "pagerduty", "trigger.json", "resolve.json"),
    ("scripts", "generic", "problem-epoch-seconds.json", "ok-offset-iso.json"),
]


def url_for(stack, source: str) -> str:
    if source == "pagerduty":  # as PagerDuty's own clients post it
        return f"http://127.0.0.1:{stack.settings.http_port}/v2/enqueue"
    return gateway_url(stack, TOKENS[source])


def expected_keys(source: str, name: str) -> list[str]:
    expect = fixture(source, name.replace(".json", ".expect.json"))
    return [alert["dedup_key"] for alert in expect["alerts"]]


def recovery_of(source: str, firing: str, recovery) -> dict:
    if isinstance(recovery, str):
        return fixture(source, recovery)
    return recovery(fixture(source, firing))


async def post(http, url: str, body: bytes) -> dict:
    async with http.post(url, data=body) as response:
        answer = await response.json()
        assert response.status == 202, answer
        return answer


async def alerts_by_key(client: EngineClient) -> dict[tuple[str, str], object]:
    found = {}
    for incident in await client.incidents("all"):
        detail = await client.incident(incident.id)
        for alert in detail.alerts:
            found[alert.integration, alert.dedup_key] = (alert, detail.incident)
    return found


async def test_every_source_opens_its_incident_and_its_recovery_resolves_it(
    stack, http
):
    client = EngineClient(stack.nc)
    wanted = {
        (name, key)
        for name, source, firing, _ in SOURCES
        for key in expected_keys(source, firing)
    }
    for _, source, firing, _ in SOURCES:
        await post(http, url_for(stack, source), encoded(fixture(source, firing)))

    async def all_open():
        found = await alerts_by_key(client)
        return found if wanted <= set(found) else None

    found = await wait_for(all_open)
    assert all(found[k][0].status == "firing" for k in wanted)
    # The integration's zone reached the parser: 14:30 in Shanghai is 06:30 UTC.
    zabbix = found["zabbix", "8812047"][0]
    assert zabbix.starts_at == datetime(2024, 3, 10, 6, 30, tzinfo=UTC)

    for _, source, firing, recovery in SOURCES:
        body = encoded(recovery_of(source, firing, recovery))
        await post(http, url_for(stack, source), body)

    async def all_resolved():
        found = await alerts_by_key(client)
        return all(
            found[k][0].status == "resolved" and found[k][1].state == "resolved"
            for k in wanted
        )

    await wait_for(all_resolved)
    incidents = await client.incidents("all")
    assert {i.close_reason for i in incidents} == {"auto"}


async def test_pagerduty_answers_like_pagerduty_and_drops_what_it_cannot_use(
    stack, http
):
    client = EngineClient(stack.nc)
    url = url_for(stack, "pagerduty")
    # A resolve and an acknowledge for keys never seen open nothing...
    for action in ("resolve", "acknowledge"):
        body = {"routing_key": PD_TOKEN, "event_action": action, "dedup_key": "nope"}
        answer = await post(http, url, encoded(body))
        assert answer["status"] == "success"
    # ...which the next trigger proves: the stream is applied in order.
    trigger = fixture("pagerduty", "trigger.json")
    del trigger["dedup_key"]
    answer = await post(http, url, encoded(trigger))
    # A keyless trigger gets a key of its own, returned for the later resolve.
    key = answer["dedup_key"]
    found = await wait_for(lambda: alerts_by_key(client))
    assert set(found) == {("pagerduty", key)}


@pytest.mark.parametrize(
    ("routing_key", "status", "words"),
    [
        # Nobody configured it: 404, and the key is not echoed.
        ("not-a-configured-routing-key-1", 404, "unknown routing_key"),
        # A token, but of an Alertmanager integration: not a PagerDuty one.
        (AM_TOKEN, 404, "unknown routing_key"),
        (None, 400, "routing_key: missing"),
    ],
)
async def test_enqueue_refuses_routing_keys_that_are_not_pagerduty_integrations(
    stack, http, routing_key, status, words
):
    body = {**fixture("pagerduty", "trigger.json"), "routing_key": routing_key}
    async with http.post(url_for(stack, "pagerduty"), data=encoded(body)) as response:
        assert response.status == status
        text = await response.text()
    assert words in text
    assert routing_key is None or routing_key not in text


async def test_an_ignored_body_is_accepted_with_the_reason(stack, http):
    body = encoded({"heartbeat": None, "monitor": None, "msg": "test"})
    answer = await post(http, gateway_url(stack, TOKENS["uptime_kuma"]), body)
    assert answer["accepted"] == 0 and "Test button" in answer["ignored"]
    info = await stack.nc.jetstream().stream_info("ALERTS")
    assert info.state.messages == 0


# ---------------------------------------------------------------- dead letters


async def start_gateway(stack, dead_letter) -> tuple[object, str]:
    gateway = Gateway(
        stack.settings.config,
        lambda payload: stack.nc.jetstream().publish("warroom.alerts.in", payload),
        lambda: stack.nc.is_connected,
        dead_letter,
    )
    port = free_port()
    runner = await serve(gateway, "127.0.0.1", port)
    return runner, f"http://127.0.0.1:{port}"


async def publish_to_stream(stack):
    js = stack.nc.jetstream()

    async def dead_letter(subject: str, payload: bytes) -> None:
        await js.publish(subject, payload, timeout=1.0)

    return dead_letter


BAD_ZABBIX = encoded(fixture("zabbix", "malformed-event-value.json"))
BAD_EVENT = encoded({**fixture("pagerduty", "trigger.json"), "event_action": "page"})


async def test_rejected_bodies_are_dead_lettered_and_listed_without_tokens(
    stack, http, capsys
):
    runner, base = await start_gateway(stack, await publish_to_stream(stack))
    try:
        zabbix = f"{base}/v1/integrations/{TOKENS['zabbix']}"
        async with http.post(zabbix, data=BAD_ZABBIX) as response:
            assert response.status == 422
        async with http.post(f"{base}/v2/enqueue", data=BAD_EVENT) as response:
            assert response.status == 422
    finally:
        await runner.cleanup()
    js = stack.nc.jetstream()
    info = await wait_for(lambda: _rejected_count(js, 2))
    records = [
        rejected_decoder.decode((await js.get_msg("REJECTED", seq)).data)
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
    ]
    assert [r.integration for r in records] == ["zabbix", "pagerduty"]
    assert "event_value must be '0' or '1'" in records[0].problems[1]
    # The PagerDuty body carried its token as routing_key: stored as <secret>.
    assert '"routing_key": "<secret>"' in records[1].body
    assert PD_TOKEN not in repr(records)

    args = ["rejected", "--json", "--nats", stack.bus_url, "--integration", "zabbix"]
    assert await asyncio.to_thread(main, args) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["integration"], e["kind"], e["status"]) for e in listed] == [
        ("zabbix", "zabbix", 422)
    ]
    assert await asyncio.to_thread(main, ["rejected", "--nats", stack.bus_url]) == 0
    table = capsys.readouterr().out
    assert "pagerduty" in table and "event_action: expected trigger" in table
    assert all(token not in table for token in TOKENS.values())


async def _rejected_count(js, count: int):
    info = await js.stream_info("REJECTED")
    return info if info.state.messages >= count else None


async def test_a_failed_dead_letter_does_not_change_the_answer(stack, http):
    async def broken(subject: str, payload: bytes) -> None:
        raise ConnectionError("the stream is gone")

    async def slow(subject: str, payload: bytes) -> None:
        await asyncio.sleep(30)

    answers = []
    for dead_letter in (await publish_to_stream(stack), broken, slow):
        runner, base = await start_gateway(stack, dead_letter)
        try:
            url = f"{base}/v1/integrations/{TOKENS['zabbix']}"
            async with http.post(url, data=BAD_ZABBIX) as response:
                answers.append((response.status, await response.json()))
        finally:
            await runner.cleanup()
    assert answers[0][0] == 422
    assert answers[1] == answers[0] == answers[2]
