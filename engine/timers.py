"""The core's timers in the engine's shell: due times kept in order, awaited.

The noise stages hand the shell `model.Timer`s (group_wait, a silence's
warning and end, a maintenance window's end); the engine awaits the soonest
with `wait`, then takes what is due with `pop_due` and runs it in one commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import Iterable
from datetime import datetime

from engine.core.model import Timer

MAX_WAIT = 30.0  # seconds `wait` sleeps without news: a bound, not a tick


class Timers:
    """Timers in due order; the same timer added twice is kept once."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str, str]] = []
        self._changed = asyncio.Event()

    def clear(self) -> None:
        self._heap.clear()
        self._changed.set()

    def add(self, timers: Iterable[Timer]) -> None:
        """Hold more timers; a sleeping `wait` wakes to look at them."""
        held = set(self._heap)
        for timer in timers:
            entry = (timer.due, timer.kind, timer.ref)
            if entry not in held:
                heapq.heappush(self._heap, entry)
                held.add(entry)
                self._changed.set()

    def soonest(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    async def wait(self, now: datetime) -> None:
        """Return when the soonest timer is due, or when timers are added."""
        soonest = self.soonest()
        delay = MAX_WAIT if soonest is None else (soonest - now).total_seconds()
        if delay <= 0:
            return
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), min(delay, MAX_WAIT))

    def pop_due(self, now: datetime) -> list[Timer]:
        """Take every timer due at `now`, oldest first."""
        due = []
        while self._heap and self._heap[0][0] <= now:
            at, kind, ref = heapq.heappop(self._heap)
            due.append(Timer(at, kind, ref))
        return due
