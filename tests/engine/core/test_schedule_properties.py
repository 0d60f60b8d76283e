"""Properties of final shifts over random zones, rotations and restrictions."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.schedule import (
    Layer,
    Override,
    Restriction,
    Schedule,
    final_shifts,
    localize,
    wall_of,
)

ZONES = sorted(available_timezones())
WINDOW = timedelta(days=60)
# Shifts of 3 hours or more: the widest clock jump in these years is 2 hours
# (Antarctica/Troll), so no shift can fall wholly inside one.
LENGTHS = st.one_of(
    st.integers(3, 36).map(lambda h: timedelta(hours=h)),
    st.integers(1, 4).map(lambda d: timedelta(days=d)),
    st.integers(1, 2).map(lambda w: timedelta(weeks=w)),
)
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def restrictions(draw) -> tuple[Restriction, ...]:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start, end = draw(st.integers(0, 23)), draw(st.integers(0, 23))
    return (Restriction(days, time(start), time(end)),)


@st.composite
def layers(draw, restricted: bool | None = None) -> Layer:
    members = tuple(f"u{i}" for i in range(draw(st.integers(1, 5))))
    has = draw(st.booleans()) if restricted is None else restricted
    return Layer(
        "layer",
        members,
        draw(LENGTHS),
        time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 15, 30)))),
        draw(st.dates(date(2015, 1, 1), date(2034, 1, 1))),
        restrictions=draw(restrictions()) if has else (),
        advance_on_restricted=draw(st.booleans()),
    )


@st.composite
def windows(draw, layer_list: list[Layer]) -> tuple[datetime, datetime]:
    first = min(layer.start for layer in layer_list)
    offset = draw(st.integers(-10, 400))
    start = datetime.combine(first, time(0), UTC) + timedelta(days=offset)
    return start, start + WINDOW


def zone_of(draw) -> ZoneInfo:
    return ZoneInfo(draw(st.sampled_from(ZONES)))


@given(st.data())
@FAST
def test_final_shifts_cover_every_instant_at_most_once(data):
    stack = data.draw(st.lists(layers(), min_size=1, max_size=3))
    zone = zone_of(data.draw)
    start, end = data.draw(windows(stack))
    spans = st.tuples(st.integers(0, 1400), st.integers(1, 200))
    overrides = tuple(
        Override(
            i, "s", "o", start + timedelta(hours=a), start + timedelta(hours=a + d), "x"
        )
        for i, (a, d) in enumerate(data.draw(st.lists(spans, max_size=3)))
    )
    shifts = final_shifts(Schedule("s", zone, tuple(stack)), overrides, start, end)
    for a, b in itertools.pairwise(shifts):
        assert a.start < a.end <= b.start
    assert all(start <= s.start and s.end <= end for s in shifts)


@given(st.data())
@FAST
def test_a_layer_without_restrictions_leaves_no_gap(data):
    layer = data.draw(layers(restricted=False))
    zone = zone_of(data.draw)
    start, end = data.draw(windows([layer]))
    shifts = final_shifts(Schedule("s", zone, (layer,)), (), start, end)
    first_shift = localize(layer.origin, zone)
    assert shifts[0].start == max(start, first_shift) or shifts == []
    for a, b in itertools.pairwise(shifts):
        assert a.end == b.start
    if shifts:
        assert shifts[-1].end == end


@given(st.data())
@FAST
def test_handoffs_fall_on_the_handoff_wall_clock_time(data):
    layer = data.draw(layers(restricted=False))
    zone = zone_of(data.draw)
    start, end = data.draw(windows([layer]))
    shifts = final_shifts(Schedule("s", zone, (layer,)), (), start, end)
    for shift in shifts[1:]:
        steps, rest = divmod(wall_of(shift.start, zone) - layer.origin, layer.length)
        expected = layer.origin + steps * layer.length
        if rest:
            # Only a handoff that fell in a spring gap may be off the grid,
            # and then it is the instant the clocks jumped.
            before = (shift.start - timedelta(seconds=1)).astimezone(zone)
            assert shift.start == localize(expected, zone)
            assert before.utcoffset() != shift.start.astimezone(zone).utcoffset()


@given(st.data())
@FAST
def test_every_member_gets_the_same_number_of_shifts_to_within_one(data):
    layer = data.draw(layers())
    zone = zone_of(data.draw)
    start, end = data.draw(windows([layer]))
    shifts = final_shifts(Schedule("s", zone, (layer,)), (), start, end)
    # A layer that advances on restricted days gives those days' turns to
    # nobody, so only the default rule promises fairness.
    if layer.restrictions and layer.advance_on_restricted:
        return
    # A restricted shift can come in several on-call parts: count each
    # rotation shift (its number since the layer's start) once.
    taken = {
        (s.user, (wall_of(s.start, zone) - layer.origin) // layer.length)
        for s in shifts
    }
    counts = Counter(user for user, _ in taken)
    rotated = [counts.get(member, 0) for member in layer.members]
    if len(layer.members) <= len(taken):
        assert max(rotated) - min(rotated) <= 1
