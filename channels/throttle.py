"""Throttles per contact method: at most `count` pages in any `per` seconds.

The defaults are GoAlert's: 3 calls and 5 SMS per 15 minutes; chat, email
and push are not throttled unless a user says so. Every worker shares the
counts in the `NOTIFY_THROTTLE` key-value bucket, one key per person and
method holding the send times still inside the window; each write compares
the revision, so two workers never both take the last slot. A throttled
page is not sent, and its `notified` event says `throttled` and until when.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.js.errors import KeyWrongLastSequenceError

from channels import buckets

log = logging.getLogger(__name__)

BUCKET = "NOTIFY_THROTTLE"
BUCKET_TTL = 24 * 3600.0  # the longest window a config may set
CAS_TRIES = 5  # writers racing for one person's slots, before giving up


@dataclass(frozen=True)
class Throttle:
    """At most `count` pages through one contact method in any `per` seconds."""

    count: int
    per: float

    def admit(self, sent: list[float], now: float) -> tuple[bool, list[float]]:
        """Whether a page may go at `now`, and the send times to keep."""
        recent = sorted(t for t in sent if now - t < self.per)
        if len(recent) >= self.count:
            return False, recent
        return True, [*recent, now]

    def why(self, kind: str, recent: list[float]) -> str:
        """`at most 3 voice pages per 15m; the next can go at 14:05:09 UTC`."""
        free = datetime.fromtimestamp(recent[0] + self.per, UTC)
        return (
            f"at most {self.count} {kind} pages per {_span(self.per)}; "
            f"the next can go at {free:%H:%M:%S} UTC"
        )


DEFAULTS = {"voice": Throttle(3, 900.0), "sms": Throttle(5, 900.0)}


class Throttles:
    """The shared counts: `take` a slot for one person's contact method."""

    def __init__(self, kv) -> None:
        self.kv = kv

    async def take(self, key: str, kind: str, throttle: Throttle, now: float):
        """None when the page may go (its slot taken), else why it may not."""
        for _ in range(CAS_TRIES):
            sent, revision = await buckets.read(self.kv, key)
            ok, kept = throttle.admit(sent or [], now)
            if not ok:
                return throttle.why(kind, kept)
            try:
                await buckets.write(self.kv, key, kept, revision)
                return None
            except KeyWrongLastSequenceError:
                continue  # another worker took a slot: count again
        # A page that cannot be counted goes out: a missed page costs more.
        log.warning("throttle not counted key=%s tries=%d", key, CAS_TRIES)
        return None


def _span(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
