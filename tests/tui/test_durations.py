"""What a person types for a duration or a start, and the countdowns shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.durations import InputProblem, countdown, parse_duration, parse_start

NOW = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15m", 900),  # the snooze dialog's default
        ("1h30m", 5400),  # units add up, as a person says it
        (" 2H ", 7200),  # spaces and capitals are forgiven
        ("1d", 86400),
        ("0.5h", 1800),
    ],
)
def test_a_duration_reads_as_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "",  # nothing typed
        "15",  # a bare number: minutes or seconds? ask rather than guess
        "15 minutes",  # not a unit the engine knows either
        "0m",  # a snooze or silence of nothing is a mistake
        "1h-5m",
    ],
)
def test_a_duration_that_does_not_read_says_what_is_expected(text):
    with pytest.raises(InputProblem, match=r"expected a duration|longer than 0s"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("", NOW),  # an empty start field means now
        ("+2h", NOW + timedelta(hours=2)),
        ("2025-03-30T09:00+01:00", datetime(2025, 3, 30, 8, 0, tzinfo=UTC)),
    ],
)
def test_a_start_reads_relative_to_now_or_as_given(text, expected):
    assert parse_start(text, NOW) == expected


def test_a_start_without_an_offset_is_in_the_local_zone():
    at = parse_start("2025-03-30 09:00", NOW)
    assert at.tzinfo is not None
    assert at.replace(tzinfo=None) == datetime(2025, 3, 30, 9, 0)


def test_a_start_that_does_not_read_names_the_forms():
    with pytest.raises(InputProblem, match=r"now, \+DURATION or YYYY-MM-DD HH:MM"):
        parse_start("tomorrow", NOW)


@pytest.mark.parametrize(
    ("left", "shown"),
    [
        (timedelta(minutes=4, seconds=59), "04:59"),
        (timedelta(seconds=0.2), "00:01"),  # rounds up: 00:00 only once due
        (timedelta(hours=1), "1:00:00"),  # past an hour the hours show
        (timedelta(seconds=-3), "00:00"),  # overdue: the event is on its way
    ],
)
def test_a_countdown_shows_minutes_and_seconds(left, shown):
    assert countdown(NOW + left, NOW) == shown
