"""Schedules: wall-clock handoffs across DST, restrictions, overrides, gaps."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.core.schedule import (
    Layer,
    Override,
    Restriction,
    Schedule,
    check,
    final_shifts,
    localize,
    next_shift,
    on_call,
    wall_of,
)

CHICAGO = ZoneInfo("America/Chicago")
LONDON = ZoneInfo("Europe/London")
WEEKDAYS = frozenset(range(5))


def schedule(zone: ZoneInfo, *layers: Layer) -> Schedule:
    return Schedule("primary", zone, layers)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        # An ordinary night: 09:00 CDT is UTC-5.
        (datetime(2024, 7, 1, 9, 0), utc(2024, 7, 1, 14, 0)),
        # 02:30 does not exist on 10 March 2024: clocks jump 02:00 -> 03:00,
        # so it means the jump itself, 03:00 CDT.
        (datetime(2024, 3, 10, 2, 30), utc(2024, 3, 10, 8, 0)),
        # 01:30 happens twice on 3 November 2024: the first, still CDT.
        (datetime(2024, 11, 3, 1, 30), utc(2024, 11, 3, 6, 30)),
        # 02:00 after the autumn repeat exists once, in CST (UTC-6).
        (datetime(2024, 11, 3, 2, 0), utc(2024, 11, 3, 8, 0)),
    ],
)
def test_wall_clock_times_resolve_by_the_documented_rule(wall, expected):
    assert localize(wall, CHICAGO) == expected


def test_weekly_chicago_rotation_has_no_gap_or_overlap_across_both_2024_changes():
    weekly = Layer(
        "weekly", ("alice", "bob"), timedelta(weeks=1), time(9), date(2024, 1, 1)
    )
    s = schedule(CHICAGO, weekly)
    start, end = utc(2024, 2, 26, 15), utc(2024, 11, 25, 15)
    shifts = final_shifts(s, (), start, end)
    report = check(s, (), start, end, timedelta(weeks=1))
    assert report.gaps == ()
    assert all(a.end == b.start for a, b in itertools.pairwise(shifts))
    lengths = {sh.start.date(): sh.end - sh.start for sh in shifts}
    # The week holding 10 March loses the skipped hour, the week holding
    # 3 November gains the repeated one; every other week is 168 hours.
    assert lengths[date(2024, 3, 4)] == timedelta(hours=167)
    assert lengths[date(2024, 10, 28)] == timedelta(hours=169)
    assert {wall_of(sh.start, CHICAGO).time() for sh in shifts} == {time(9)}


def test_london_daily_shift_created_in_july_keeps_its_wall_clock_hours_in_november():
    daily = Layer("day", ("alice", "bob"), timedelta(days=1), time(8), date(2024, 7, 1))
    s = schedule(LONDON, daily)
    july = on_call(s, (), utc(2024, 7, 2, 12))
    november = on_call(s, (), utc(2024, 11, 12, 12))
    # 08:00 BST is 07:00 UTC in July; 08:00 GMT is 08:00 UTC in November.
    assert july.start == utc(2024, 7, 2, 7)
    assert november.start == utc(2024, 11, 12, 8)
    assert wall_of(november.end, LONDON) == datetime(2024, 11, 13, 8)


@pytest.mark.parametrize(
    ("advance", "monday_user"),
    [
        # Saturday and Sunday have nobody on call in this layer, so they do
        # not advance it: Monday goes to the one after Friday's (b -> c).
        (False, "c"),
        # A layer that says so advances on restricted days too: Sat c, Sun a,
        # so Monday is b.
        (True, "b"),
    ],
)
def test_weekday_only_daily_rotation_gives_monday_to_the_next_person(
    advance, monday_user
):
    weekdays = Layer(
        "weekdays",
        ("a", "b", "c"),
        timedelta(days=1),
        time(0),
        date(2024, 1, 1),  # a Monday
        restrictions=(Restriction(WEEKDAYS),),
        advance_on_restricted=advance,
    )
    s = schedule(LONDON, weekdays)
    shifts = final_shifts(s, (), utc(2024, 1, 1), utc(2024, 1, 9))
    users = [sh.user for sh in shifts]
    assert users == ["a", "b", "c", "a", "b", monday_user]
    # Friday's shift ends at midnight and nothing covers the weekend.
    assert shifts[4].end == utc(2024, 1, 6) and shifts[5].start == utc(2024, 1, 8)


def test_override_covering_two_shifts_keeps_both_shifts_own_boundaries():
    daily = Layer("day", ("alice", "bob"), timedelta(days=1), time(9), date(2024, 7, 1))
    s = schedule(LONDON, daily)
    carol = Override(
        1, "primary", "carol", utc(2024, 7, 1, 14), utc(2024, 7, 2, 14), "dave"
    )
    shifts = final_shifts(s, (carol,), utc(2024, 7, 1, 8), utc(2024, 7, 3, 8))
    # The 08:00 UTC handoff between alice's and bob's shifts stays a boundary,
    # and each piece of the override names whom it replaces.
    assert [(sh.user, sh.start, sh.end, sh.replacing) for sh in shifts] == [
        ("alice", utc(2024, 7, 1, 8), utc(2024, 7, 1, 14), None),
        ("carol", utc(2024, 7, 1, 14), utc(2024, 7, 2, 8), "alice"),
        ("carol", utc(2024, 7, 2, 8), utc(2024, 7, 2, 14), "bob"),
        ("bob", utc(2024, 7, 2, 14), utc(2024, 7, 3, 8), None),
    ]


def test_override_replacing_one_person_applies_only_to_their_shifts():
    daily = Layer("day", ("alice", "bob"), timedelta(days=1), time(9), date(2024, 7, 1))
    s = schedule(LONDON, daily)
    for_bob = Override(
        2, "primary", "carol", utc(2024, 7, 1, 8), utc(2024, 7, 3, 8), "bob", "bob"
    )
    users = [
        sh.user
        for sh in final_shifts(s, (for_bob,), utc(2024, 7, 1, 8), utc(2024, 7, 3, 8))
    ]
    # Alice keeps her day; carol stands in for bob's only.
    assert users == ["alice", "carol"]


def test_an_override_shows_in_on_call_with_its_own_span():
    daily = Layer("day", ("alice", "bob"), timedelta(days=1), time(9), date(2024, 7, 1))
    s = schedule(LONDON, daily)
    carol = Override(
        3, "primary", "carol", utc(2024, 7, 1, 10), utc(2024, 7, 1, 12), "dave"
    )
    shift = on_call(s, (carol,), utc(2024, 7, 1, 11))
    assert (shift.user, shift.source, shift.start, shift.end) == (
        "carol", "override 3", utc(2024, 7, 1, 10), utc(2024, 7, 1, 12),
    )  # fmt: skip
    after = next_shift(s, (carol,), shift.end, other_than="carol")
    # Alice's shift resumes when the override ends.
    assert (after.user, after.start) == ("alice", utc(2024, 7, 1, 12))


def test_higher_layer_wins_where_it_has_someone():
    base = Layer("day", ("alice",), timedelta(days=1), time(0), date(2024, 1, 1))
    nights = Layer(
        "nights", ("bob",), timedelta(days=1), time(0), date(2024, 1, 1),
        restrictions=(Restriction(frozenset(range(7)), time(22), time(6)),),
    )  # fmt: skip
    s = schedule(LONDON, base, nights)
    shifts = final_shifts(s, (), utc(2024, 1, 2, 12), utc(2024, 1, 3, 12))
    # Bob's night is cut at midnight, where both layers' daily shifts hand
    # off: each piece belongs to its own shift.
    assert [(sh.user, sh.source, sh.start.hour) for sh in shifts] == [
        ("alice", "layer 1", 12),
        ("bob", "layer 2", 22),
        ("bob", "layer 2", 0),
        ("alice", "layer 1", 6),
    ]
    assert on_call(s, (), utc(2024, 1, 2, 23)).user == "bob"


@pytest.mark.parametrize(
    ("layers", "gaps"),
    [
        # Business hours only, Monday 09:00 to the next Monday 09:00: four
        # nights and one long gap from Friday 17:00 to Monday 09:00.
        (("business",), 5),
        # A second, unrestricted layer under it fills every gap.
        (("always", "business"), 0),
    ],
)
def test_check_reports_gaps(layers, gaps):
    made = {
        "business": Layer(
            "business", ("alice", "bob"), timedelta(days=1), time(9), date(2024, 1, 1),
            restrictions=(Restriction(WEEKDAYS, time(9), time(17)),),
        ),
        "always": Layer(
            "always", ("carol",), timedelta(weeks=1), time(9), date(2024, 1, 1)
        ),
    }  # fmt: skip
    s = schedule(LONDON, *(made[name] for name in layers))
    report = check(s, (), utc(2024, 1, 1, 9), utc(2024, 1, 8, 9), timedelta(weeks=2))
    assert len(report.gaps) == gaps


def test_check_reports_long_runs_and_overlapping_overrides():
    solo = Layer("solo", ("alice",), timedelta(days=1), time(9), date(2024, 1, 1))
    s = schedule(LONDON, solo)
    overrides = (
        Override(1, "primary", "bob", utc(2024, 1, 2), utc(2024, 1, 3), "bob"),
        Override(2, "primary", "carol", utc(2024, 1, 2, 12), utc(2024, 1, 4), "carol"),
    )
    report = check(
        s, overrides, utc(2024, 1, 1, 9), utc(2024, 1, 8, 9), timedelta(days=3)
    )
    # Alice alone from the 4th to the 8th is 4 days in a row, over the limit;
    # the two overrides overlap on the 2nd.
    assert [r[0] for r in report.long_runs] == ["alice"]
    assert report.overlaps == ((1, 2),)
