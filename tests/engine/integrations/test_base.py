"""The helpers every parser shares: times, text bounds, the alert builder."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bus import wire
from engine.gateway import MAX_MESSAGE
from engine.integrations.base import (
    MAX_ANNOTATIONS,
    MAX_LABELS,
    MAX_TEXT,
    PayloadRejected,
    bounded_annotations,
    bounded_labels,
    clean_line,
    decode_json,
    host_of_url,
    new_alert,
    parse_time,
)
from tests.engine.integrations.cases import context_for


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        # Z and an explicit +00:00 are the same instant.
        ("2024-03-10T06:30:00Z", None, at(2024, 3, 10, 6, 30)),
        # +05:30 is not a whole hour: 11:42:17+05:30 is 06:12:17 UTC.
        ("2024-03-10T11:42:17+05:30", None, at(2024, 3, 10, 6, 12, 17)),
        # CloudWatch and PagerDuty write the offset without a colon.
        ("2024-10-27T01:30:12.345+0000", None, at(2024, 10, 27, 1, 30, 12, 345000)),
        # A negative offset adds hours: 20:00-0500 is 01:00 UTC the next day.
        ("2024-03-09T20:00:00-0500", None, at(2024, 3, 10, 1)),
        # Azure writes seven fractional digits: the seventh is dropped.
        ("2024-03-10T07:15:42.1234567Z", None, at(2024, 3, 10, 7, 15, 42, 123456)),
        # Alertmanager writes nine; Go trims trailing zeros (".2" is 200 ms).
        ("2024-03-10T06:59:58.480215793Z", None, at(2024, 3, 10, 6, 59, 58, 480215)),
        ("2024-10-27T02:14:05.2+02:00", None, at(2024, 10, 27, 0, 14, 5, 200000)),
        # Go's zero time means "no end", never year 1.
        ("0001-01-01T00:00:00Z", None, None),
        # Epoch seconds, and milliseconds from 1e11 on: one rule for every source.
        (1710036000, None, at(2024, 3, 10, 2)),
        (1710054903000, None, at(2024, 3, 10, 7, 15, 3)),
        ("1710054903000", None, at(2024, 3, 10, 7, 15, 3)),
        # Just below 1e11 is still seconds (the year 5138), not milliseconds.
        (99_999_999_999, None, at(5138, 11, 16, 9, 46, 39)),
        (100_000_000_000, None, at(1973, 3, 3, 9, 46, 40)),
        # A time with no offset is read in the integration's zone (UTC+8 here).
        ("2024-03-10T14:30:00", "Asia/Shanghai", at(2024, 3, 10, 6, 30)),
        # The European fall-back night: 02:30 happens twice; the first is +02:00.
        ("2024-10-27T02:30:00", "Europe/Berlin", at(2024, 10, 27, 0, 30)),
        # Uptime Kuma's zone-less UTC with a space for the T.
        ("2024-03-10 07:15:09.482", None, at(2024, 3, 10, 7, 15, 9, 482000)),
    ],
)
def test_source_times_become_utc_instants(value, zone, expected):
    assert parse_time(value, tz=zone) == expected


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",  # words are not times
        "2024-03-10T24:00:00Z",  # hour 24 does not exist
        "2024-02-30T00:00:00Z",  # nor does 30 February
        "2024-03-10T06:30:00+25:00",  # an offset past 23 hours
        True,  # JSON true is not 1
        -5,  # before the epoch: a sender's bug, not 1969
        10**30,  # overflows any calendar
        {"at": 1},  # an object
    ],
)
def test_values_that_are_not_times_raise_value_error(value):
    with pytest.raises(ValueError):
        parse_time(value)


def test_an_unknown_zone_raises_value_error_not_key_error():
    # ZoneInfo raises a KeyError subclass; that would escape as a 500.
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_time("2024-03-10T14:30:00", tz="Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "the body is empty"),
        (b'{"a": 1', "line 1, column 8"),  # cut off: the position is the end
        (b'{\n  "a": 1,,\n}', "line 2, column 10"),  # the second comma
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),  # RecursionError inside
    ],
)
def test_bad_json_is_rejected_with_its_position(body, words):
    with pytest.raises(PayloadRejected) as raised:
        decode_json(body)
    assert words in raised.value.problems[0]
    assert raised.value.status == 400


def test_a_title_is_one_clean_line():
    # A newline would break the queue's table; NUL and ESC would break terminals.
    assert clean_line("disk\nfull\x00 on \x1b[31mdb-7\t ") == "disk full on [31mdb-7"


def test_annotations_are_bounded_in_total_not_refused():
    # 200 annotations of 16 KiB: 3.2 MB of text shrinks to the budget.
    huge = {f"note{i}": "x" * MAX_TEXT for i in range(200)}
    kept = bounded_annotations(huge)
    assert 0 < sum(len(v) for v in kept.values()) <= MAX_ANNOTATIONS
    assert all(len(v) <= MAX_TEXT for v in kept.values())


def test_labels_are_bounded_in_number_and_empty_ones_left_out():
    labels = {f"k{i}": "v" for i in range(500)} | {"host": ""}
    kept = bounded_labels({"": "no key", **labels})
    assert len(kept) == MAX_LABELS
    assert "" not in kept and "host" not in kept


def test_one_alert_with_every_field_at_its_bound_fits_a_nats_message():
    # CJK text is 3 bytes a character: the worst case for the encoded size.
    wide = "磁" * 100_000
    alert = new_alert(
        context_for("generic"),
        "generic",
        wide,
        "firing",
        title=wide,
        labels={f"{wide[:200]}{i}": wide for i in range(300)},
        annotations={f"a{i}": wide for i in range(100)},
    )
    assert len(wire.encode(alert)) < MAX_MESSAGE


def test_an_alert_that_nothing_identifies_is_rejected():
    # A shared constant key would merge unrelated problems into one incident.
    with pytest.raises(PayloadRejected, match="nothing identifies"):
        new_alert(context_for("generic"), "generic", " \x00 ", "firing")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://shop.example.internal/health", "shop.example.internal"),
        ("http://[2001:db8::1]:8080/", "2001:db8::1"),  # brackets and port go
        ("tcp://db-7.example.internal:5432", "db-7.example.internal"),
        ("not a url", ""),
        ("http://[broken/", ""),  # urlsplit raises ValueError here
        (None, ""),
    ],
)
def test_host_of_url(url, host):
    assert host_of_url(url) == host
