"""Who is on call at time t: layers of rotations, restrictions and overrides.

The time rule, the same everywhere: handoffs and restrictions are wall-clock
times in the schedule's zone, whatever its offset that day. A wall-clock time
that happens twice (the autumn repeat) means its first occurrence. One that
does not exist (the spring gap) means the moment the clocks jump past it: a
02:30 handoff on the night clocks go from 02:00 to 03:00 happens at 03:00.

The rotation rule: shift k of a layer spans the wall-clock times
`start + k * length` to `start + (k + 1) * length`. With restrictions, only
the parts of a shift inside them are on call, and a shift with no such part
does not advance the rotation: the next person takes the next shift that has
any (a weekday-only daily rotation gives Monday to the one after Friday's).
A layer with `advance_on_restricted` gives every shift to the next person,
restricted away or not.

A higher layer (later in the list) wins wherever it has someone; an override
wins over every layer. An override `replacing` a person applies only while
that person would be on call.
"""

from __future__ import annotations

import bisect
import functools
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate, pairwise
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = timedelta(weeks=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Restriction:
    """Weekdays and a time of day when a layer applies.

    `days` holds weekday numbers (0 is Monday) on which the window starts. An
    `end` at or before `start` runs past midnight; equal ones mean all day.
    """

    days: frozenset[int]
    start: time = time(0)
    end: time = time(0)

    def windows(self, day: date) -> tuple[datetime, datetime] | None:
        """The wall-clock window this restriction opens on `day`, if any."""
        if day.weekday() not in self.days:
            return None
        opens = datetime.combine(day, self.start)
        closes = datetime.combine(day, self.end)
        if closes <= opens:
            closes += DAY
        return opens, closes


@dataclass(frozen=True, slots=True)
class Layer:
    """One rotation: members in order, taking shifts of a wall-clock length."""

    name: str
    members: tuple[str, ...]
    length: timedelta
    handoff: time
    start: date
    restrictions: tuple[Restriction, ...] = ()
    advance_on_restricted: bool = False

    @property
    def origin(self) -> datetime:
        """The wall-clock start of shift 0."""
        return datetime.combine(self.start, self.handoff)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Layers of rotations in one IANA time zone."""

    name: str
    zone: ZoneInfo
    layers: tuple[Layer, ...]


@dataclass(frozen=True, slots=True)
class Override:
    """A person on call instead of the layers, from `start` to `end`."""

    id: int
    schedule: str
    user: str
    start: datetime
    end: datetime
    author: str
    replacing: str | None = None


@dataclass(frozen=True, slots=True)
class Shift:
    """A span of time one person is on call, and where that came from.

    `layer` is the layer's number (1 is the lowest); an override's shift has
    `override` set instead, and `replacing` names who it stands in for.
    """

    user: str
    start: datetime
    end: datetime
    layer: int | None = None
    override: int | None = None
    replacing: str | None = None

    @property
    def source(self) -> str:
        """`layer 2` or `override 7`: what put this person on call."""
        if self.override is not None:
            return f"override {self.override}"
        return f"layer {self.layer}"


# ---------------------------------------------------------------- wall clock


def localize(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive wall-clock time, by the module's time rule."""
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    return _gap_end(wall, zone)


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    # In a gap, fold=1 reads the wall time with the later offset and fold=0
    # with the earlier: the jump lies between them. Bisect whole seconds
    # (13 steps for a 2-hour gap, the widest in the tz database).
    lo = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    hi = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    while (hi - lo) > timedelta(seconds=1):
        mid = lo + (hi - lo) // 2
        mid = mid.replace(microsecond=0)
        if wall_of(mid, zone) >= wall:
            hi = mid
        else:
            lo = mid
    return hi


def wall_of(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time of an instant in a zone."""
    return instant.astimezone(zone).replace(tzinfo=None)


# ---------------------------------------------------------------- one layer


def _restrict(
    layer: Layer, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of a wall-clock span inside the layer's restrictions."""
    if not layer.restrictions:
        return [(start, end)]
    parts = []
    day = start.date() - DAY
    while day <= end.date():
        for restriction in layer.restrictions:
            window = restriction.windows(day)
            if window and window[0] < end and window[1] > start:
                parts.append((max(start, window[0]), min(end, window[1])))
        day += DAY
    return _merge(sorted(parts))


def _merge(parts: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in parts:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@functools.cache
def _active_pattern(layer: Layer) -> tuple[int, tuple[int, ...]]:
    """The period of the layer's active shifts in shifts, and its prefix counts.

    Restrictions repeat weekly, so whether shift k has an on-call part repeats
    every lcm(length, 1 week) / length shifts (7 for daily, 168 for hourly).
    """
    minutes = max(1, int(layer.length.total_seconds() // 60))
    period = math.lcm(minutes, 7 * 24 * 60) // minutes
    active = [1 if _restrict(layer, *_span(layer, k)) else 0 for k in range(period)]
    return period, (0, *accumulate(active))


def _span(layer: Layer, k: int) -> tuple[datetime, datetime]:
    start = layer.origin + k * layer.length
    return start, start + layer.length


def member_index(layer: Layer, k: int) -> int:
    """Which member takes shift k: count the shifts before it that advance."""
    if layer.advance_on_restricted or not layer.restrictions:
        return k % len(layer.members)
    period, prefix = _active_pattern(layer)
    whole, part = divmod(k, period)
    return (whole * prefix[-1] + prefix[part]) % len(layer.members)


def layer_shifts(
    schedule: Schedule, number: int, start: datetime, end: datetime
) -> list[Shift]:
    """A layer's shifts that overlap [start, end), clipped to it, in order."""
    layer = schedule.layers[number - 1]
    if not layer.members:
        return []
    zone = schedule.zone
    margin = 1 + DAY // layer.length  # room for offsets shifting wall times
    first = max(0, (wall_of(start, zone) - layer.origin) // layer.length - margin)
    last = (wall_of(end, zone) - layer.origin) // layer.length + margin
    shifts = []
    for k in range(first, last + 1):
        user = layer.members[member_index(layer, k)]
        for wall_start, wall_end in _restrict(layer, *_span(layer, k)):
            a, b = localize(wall_start, zone), localize(wall_end, zone)
            a, b = max(a, start), min(b, end)
            if a < b:
                shifts.append(Shift(user, a, b, layer=number))
    return shifts


# ---------------------------------------------------------------- final shifts


def final_shifts(
    schedule: Schedule, overrides: tuple[Override, ...], start: datetime, end: datetime
) -> list[Shift]:
    """Who is on call over [start, end): layers, then overrides, in order.

    Gaps (nobody on call) are absent from the list. An override is cut where
    the shifts under it change hands, so each piece names whom it replaces
    and the shifts around it keep their own boundaries.
    """
    layers = [
        layer_shifts(schedule, n, start, end)
        for n in range(1, len(schedule.layers) + 1)
    ]
    mine = sorted(
        (o for o in overrides if o.schedule == schedule.name),
        key=lambda o: o.id,
    )
    mine = [o for o in mine if o.start < end and o.end > start]
    cuts = {start, end}
    for shifts in layers:
        cuts.update(t for s in shifts for t in (s.start, s.end))
    cuts.update(t for o in mine for t in (o.start, o.end) if start < t < end)
    starts = [[s.start for s in shifts] for shifts in layers]
    pieces = []
    for a, b in pairwise(sorted(cuts)):
        base = _covering(layers, starts, a)
        piece = _override_piece(mine, base, a) or base
        if piece is not None:
            pieces.append((piece, a, b))
    return _joined(pieces)


def _covering(layers, starts, at: datetime) -> Shift | None:
    """The shift of the highest layer with someone on call at `at`."""
    for shifts, begins in zip(reversed(layers), reversed(starts), strict=True):
        i = bisect.bisect_right(begins, at) - 1
        if i >= 0 and shifts[i].end > at:
            return shifts[i]
    return None


def _override_piece(mine, base: Shift | None, at: datetime) -> Shift | None:
    under = base.user if base else None
    for override in reversed(mine):  # the newest override wins
        if not override.start <= at < override.end:
            continue
        if override.replacing and override.replacing != under:
            continue
        return Shift(
            override.user,
            base.start if base else override.start,  # identity only: the cut
            base.end if base else override.end,
            override=override.id,
            replacing=under,
        )
    return None


def _joined(pieces) -> list[Shift]:
    """Adjacent pieces of the same shift (same source and span) as one."""
    joined: list[Shift] = []
    previous = None
    for piece, a, b in pieces:
        if previous == piece and joined and joined[-1].end == a:
            joined[-1] = _span_of(joined[-1], joined[-1].start, b)
        else:
            joined.append(_span_of(piece, a, b))
        previous = piece
    return joined


def _span_of(shift: Shift, start: datetime, end: datetime) -> Shift:
    return Shift(shift.user, start, end, shift.layer, shift.override, shift.replacing)


# ---------------------------------------------------------------- questions


def reach(schedule: Schedule) -> timedelta:
    """How far back a shift covering an instant can start: the longest shift."""
    longest = max((layer.length for layer in schedule.layers), default=DAY)
    return longest + 2 * DAY


def on_call(
    schedule: Schedule, overrides: tuple[Override, ...], at: datetime
) -> Shift | None:
    """The final shift covering `at`, with its true start and end, or None."""
    back = reach(schedule)
    covering = [o.start for o in overrides if o.start <= at < o.end]
    start = min([at - back, *covering])
    ends = [o.end for o in overrides if o.start <= at < o.end]
    end = max([at + back, *ends])
    for shift in final_shifts(schedule, overrides, start, end):
        if shift.start <= at < shift.end:
            return shift
    return None


def next_shift(
    schedule: Schedule,
    overrides: tuple[Override, ...],
    after: datetime,
    other_than: str | None = None,
    horizon: timedelta = timedelta(weeks=8),
) -> Shift | None:
    """The first shift starting at or after `after`, of someone else if asked."""
    window = reach(schedule)
    start = after
    while start < after + horizon:
        for shift in final_shifts(schedule, overrides, start, start + window):
            if shift.start >= after and shift.user != other_than:
                return shift
        start += window
    return None


@dataclass(frozen=True, slots=True)
class Report:
    """What `schedule check` found over a span."""

    gaps: tuple[tuple[datetime, datetime], ...]
    long_runs: tuple[tuple[str, datetime, datetime], ...]
    overlaps: tuple[tuple[int, int], ...]


def check(
    schedule: Schedule,
    overrides: tuple[Override, ...],
    start: datetime,
    end: datetime,
    limit: timedelta,
) -> Report:
    """Gaps, runs of one person longer than `limit`, and overlapping overrides."""
    shifts = final_shifts(schedule, overrides, start, end)
    gaps, at = [], start
    for shift in shifts:
        if shift.start > at:
            gaps.append((at, shift.start))
        at = shift.end
    if at < end:
        gaps.append((at, end))
    return Report(
        tuple(gaps), _long_runs(shifts, limit), _overlaps(schedule, overrides)
    )


def _long_runs(shifts: list[Shift], limit: timedelta):
    runs: list[tuple[str, datetime, datetime]] = []
    for shift in shifts:
        if runs and runs[-1][0] == shift.user and runs[-1][2] == shift.start:
            runs[-1] = (shift.user, runs[-1][1], shift.end)
        else:
            runs.append((shift.user, shift.start, shift.end))
    return tuple(r for r in runs if r[2] - r[1] > limit)


def _overlaps(schedule: Schedule, overrides: tuple[Override, ...]):
    mine = sorted(
        (o for o in overrides if o.schedule == schedule.name), key=lambda o: o.start
    )
    found = []
    for i, a in enumerate(mine):
        for b in mine[i + 1 :]:
            if b.start >= a.end:
                break
            found.append((a.id, b.id))
    return tuple(found)
