"""Uptime Kuma's webhook: statuses, the test button, form-data, hosts."""

from __future__ import annotations

import json

import pytest

from tests.engine.integrations.cases import (
    cases,
    check,
    encoded,
    fixture,
    instant,
    parse,
    rejection,
)


@pytest.mark.parametrize("case", cases("uptime_kuma"))
def test_shared_case(case):
    check(case)


def down(heartbeat=None, monitor=None) -> dict:
    body = fixture("uptime_kuma", "down.json")
    body["heartbeat"].update(heartbeat or {})
    body["monitor"].update(monitor or {})
    return body


@pytest.mark.parametrize("status", [2, 3])
def test_pending_and_maintenance_do_not_page(status):
    # 2 is PENDING (still retrying), 3 MAINTENANCE (planned): neither pages.
    assert parse("uptime_kuma", encoded(down({"status": status}))) == []


def test_the_test_button_is_ignored():
    body = {"heartbeat": None, "monitor": None, "msg": "Uptime Kuma: test 🧪"}
    assert parse("uptime_kuma", encoded(body)) == []


def test_local_date_time_is_never_read_as_utc():
    # localDateTime is 08:15 in Berlin; heartbeat.time 07:15 is the UTC instant.
    [alert] = parse("uptime_kuma", encoded(down({"time": "2024-03-10 07:15:09.482"})))
    assert alert.starts_at == instant("2024-03-10T07:15:09.482Z")


def test_the_hostname_wins_over_the_url():
    # A ping or port monitor has a hostname and no URL.
    [alert] = parse("uptime_kuma", encoded(down(monitor={"hostname": "192.0.2.7"})))
    assert alert.labels["host"] == "192.0.2.7"


def test_form_data_with_a_data_field():
    payload = json.dumps(fixture("uptime_kuma", "down.json"), ensure_ascii=False)
    body = (
        '--XyZ\r\nContent-Disposition: form-data; name="data"\r\n\r\n'
        f"{payload}\r\n--XyZ--\r\n"
    )
    [alert] = parse("uptime_kuma", body.encode())
    assert alert.dedup_key == "17"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (down({"status": "DOWN"}), "heartbeat.status: expected 0 (down)"),
        (down({"monitorID": None}, {"id": None}), "monitor.id: empty"),
        ({"heartbeat": {"status": 0}, "monitor": []}, "monitor: expected an object"),
    ],
)
def test_bad_bodies_are_rejected_by_field(body, words):
    assert words in rejection("uptime_kuma", encoded(body))
