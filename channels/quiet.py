"""Quiet hours: when a person's low-urgency pages wait, in their own time zone.

The rule: a low-urgency page (warning, info) that falls in quiet hours waits
until they end, then follows the person's low-urgency rules from that
moment, as if it had arrived then; if the incident was acknowledged or
resolved meanwhile, it is dropped, as any pending step is. High-urgency
pages ignore quiet hours. Escalation does not wait: the level's delay keeps
counting, so an unanswered incident still reaches the next level, whose
people have quiet hours of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    """From `start` to `end` (across midnight when `end` is earlier) in `zone`."""

    start: time
    end: time
    zone: ZoneInfo

    def release(self, at: datetime) -> datetime | None:
        """When the quiet hours around `at` end (UTC), or None outside them."""
        local = at.astimezone(self.zone)
        now = local.time()
        if self.start < self.end:
            if not self.start <= now < self.end:
                return None
            day = local.date()
        else:
            if self.end <= now < self.start:
                return None
            day = local.date() + timedelta(days=1 if now >= self.start else 0)
        return datetime.combine(day, self.end, tzinfo=self.zone).astimezone(UTC)
