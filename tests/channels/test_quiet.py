"""Quiet hours: low-urgency pages wait for their end, in the user's time zone."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from channels.contacts import Book, Method, Person, Rule
from channels.quiet import QuietHours
from channels.worker import Worker
from engine.config import ConfigError, parse_config
from tests.channels.test_worker import job
from tests.conftest import TEST_CONFIG
from warroom.delivery import book_of

BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = QuietHours(time(22, 0), time(7, 0), BERLIN)
LUNCH = QuietHours(time(12, 0), time(13, 0), BERLIN)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("quiet", "at", "released"),
    [
        # 23:30 in Berlin (CET, UTC+1): waits for 07:00 the next morning
        (NIGHT, "2025-01-14T22:30", "2025-01-15T06:00"),
        # 03:00 in Berlin: the same morning's 07:00
        (NIGHT, "2025-01-15T02:00", "2025-01-15T06:00"),
        # 07:00 sharp: quiet hours are over, the page goes
        (NIGHT, "2025-01-15T06:00", None),
        # noon: nothing to wait for
        (NIGHT, "2025-01-15T11:00", None),
        # the night the clocks spring forward: 07:00 CEST is 05:00 UTC, 7 h later
        (NIGHT, "2025-03-29T22:00", "2025-03-30T05:00"),
        # 22:30 UTC is 23:30 in Berlin but 22:30 in London: the user's zone counts
        (QuietHours(time(23, 0), time(7, 0), ZoneInfo("Europe/London")),
         "2025-01-14T22:30", None),
        # a window within one day: lunch in summer (CEST, UTC+2)
        (LUNCH, "2025-07-01T10:15", "2025-07-01T11:00"),
        (LUNCH, "2025-07-01T11:00", None),
    ],
)  # fmt: skip
def test_quiet_hours_release_a_page_when_they_end(quiet, at, released):
    assert quiet.release(utc(at)) == (utc(released) if released else None)


def worker_for(quiet: QuietHours) -> Worker:
    methods = {"push": Method("push", "apprise", "json://127.0.0.1:9/a")}
    rules = (Rule(0, "push"), Rule(120, "push"))
    alice = Person("alice", "Alice", methods, {"low": rules, "high": rules}, quiet)
    return Worker(None, None, Book({"alice": alice}), {})


@pytest.mark.parametrize(
    ("urgency", "first_due"),
    [
        # a warning at 23:30 Berlin time waits for 07:00, then follows the rules
        ("low", "2025-01-15T06:00"),
        # a critical page wakes her: quiet hours are for low urgency only
        ("high", "2025-01-14T22:30"),
    ],
)
def test_a_low_urgency_page_in_quiet_hours_is_planned_for_their_end(urgency, first_due):
    steps, problem = worker_for(NIGHT).plan(
        job(urgency=urgency, at=utc("2025-01-14T22:30"))
    )
    assert problem is None
    start = utc(first_due)
    assert [s.due for s in steps] == [start, start + timedelta(minutes=2)]


def _carol(quiet: str) -> str:
    return TEST_CONFIG.replace(
        "carol: {name: Carol}", f"carol: {{name: Carol, quiet_hours: {quiet}}}"
    )


def test_the_book_carries_quiet_hours_in_the_users_zone():
    text = _carol("{from: '22:00', to: '07:00', timezone: Europe/Berlin}")
    carol = book_of(parse_config(text, "t.yaml")).people["carol"]
    assert carol.quiet == NIGHT


@pytest.mark.parametrize(
    ("quiet", "expected"),
    [
        # 25 o'clock does not exist
        ("{from: '25:00', to: '07:00'}", "users.carol.quiet_hours.from: "),
        # the same start and end: always quiet or never? refused
        ("{from: '07:00', to: '07:00'}", "users.carol.quiet_hours: from and to"),
        # a typo in the zone would shift the hours silently
        (
            "{from: '22:00', to: '07:00', timezone: Europe/Berlni}",
            "users.carol.quiet_hours.timezone: unknown time zone",
        ),
    ],
)
def test_bad_quiet_hours_are_named_by_their_path(quiet, expected):
    with pytest.raises(ConfigError) as err:
        parse_config(_carol(quiet), "t.yaml")
    [problem] = err.value.problems
    assert problem.startswith(expected)
