"""Durations and times a person types (`15m`, `1h30m`, `now`), and countdowns.

The console knows only the bus, so it reads what a person types here rather
than with the engine's config parser; the units are the same (`s`, `m`, `h`,
`d`), and several may follow each other as in `1h30m`.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_WHOLE = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*[smhd])+\s*")


class InputProblem(ValueError):
    """What a person typed cannot be read; the message says what was expected."""


def parse_duration(text: str) -> float:
    """Seconds in `30s`, `15m`, `2h`, `1d` or a sum such as `1h30m`."""
    text = text.strip().lower()
    if not text or not _WHOLE.fullmatch(text):
        raise InputProblem(
            f"expected a duration such as 15m, 1h or 1h30m, got {text!r}"
        )
    seconds = sum(float(n) * UNITS[unit] for n, unit in _PART.findall(text))
    if seconds <= 0:
        raise InputProblem("a duration must be longer than 0s")
    return seconds


def parse_start(text: str, now: datetime) -> datetime:
    """`now`, `+2h` (from now), or a date and time (`2025-03-30 09:00`).

    A date and time without an offset is in the console's local zone, which is
    how the console shows every time.
    """
    text = text.strip()
    if text.lower() in ("", "now"):
        return now
    if text.startswith("+"):
        return now + timedelta(seconds=parse_duration(text[1:]))
    try:
        at = datetime.fromisoformat(text)
    except ValueError as err:
        raise InputProblem(
            f"expected now, +DURATION or YYYY-MM-DD HH:MM, got {text!r}"
        ) from err
    return at if at.tzinfo is not None else at.astimezone()


def countdown(until: datetime, now: datetime) -> str:
    """`04:59`, or `1:04:59` past an hour; `00:00` once `until` has passed."""
    seconds = max(0, math.ceil((until - now).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"
