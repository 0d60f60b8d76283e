"""What every source's parser shares: the rejection error, times, text bounds."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec

MAX_TEXT = 16 * 1024  # one annotation; bodies are bounded at 1 MiB by the gateway
MAX_TITLE = 512

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EPOCH_MS_THRESHOLD = 100_000_000_000  # 1e11: at or above is milliseconds


class PayloadRejected(Exception):
    """A body the gateway answers with 4xx; `problems` name each bad field."""

    def __init__(self, problems: list[str], status: int = 400) -> None:
        self.problems = problems
        self.status = status
        super().__init__("; ".join(problems))


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a parser knows besides the body: the integration and the receipt time."""

    integration: str
    kind: str
    received_at: datetime
    timezone: str | None = None
    service: str | None = None


def decode_json(body: bytes) -> Any:
    """Decode JSON, naming the line and column of the first error."""
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as err:
        raise PayloadRejected([_json_problem(body, str(err))]) from err


def _json_problem(body: bytes, message: str) -> str:
    found = re.search(r"\(byte (\d+)\)", message)
    reason = re.sub(r"^JSON is malformed: ", "", message)
    reason = re.sub(r"\s*\(byte \d+\)", "", reason)
    if found:
        offset = int(found.group(1))
    elif "truncated" in message:
        offset, reason = len(body), "the body ends before the JSON does"
    else:
        return f"invalid JSON: {reason}"
    prefix = body[:offset]
    line = prefix.count(b"\n") + 1
    column = offset - (prefix.rfind(b"\n") + 1) + 1
    return f"invalid JSON at line {line}, column {column} (byte {offset}): {reason}"


def parse_time(value: Any, *, tz: str | None = None) -> datetime | None:
    """Parse a source time to an aware UTC datetime; None for Go's zero time.

    Accepts RFC 3339 with any offset (with or without a colon), up to nine
    fractional digits (truncated to microseconds), and epoch numbers: an
    integer at or above 1e11 is milliseconds, below it seconds. A time with no
    offset is read in `tz` (an IANA name), else UTC. Raises ValueError.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("not a time")
    if isinstance(value, int | float):
        return _from_epoch(value)
    if not isinstance(value, str):
        raise ValueError("not a time")
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _from_epoch(float(text) if "." in text else int(text))
    found = _RFC3339.match(text)
    if not found:
        raise ValueError("not a time")
    year, month, day, hour, minute, second, fraction, offset = found.groups()
    if year == "0001" and month == "01" and day == "01":
        return None  # Go's zero time: "no end"
    micro = int((fraction or "0").ljust(6, "0")[:6])
    try:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute),
                         int(second), micro)  # fmt: skip
    except ValueError as err:
        raise ValueError("not a time") from err
    return naive.replace(tzinfo=_zone(offset, tz)).astimezone(UTC)


def _zone(offset: str | None, tz: str | None):
    if offset in ("Z", "z"):
        return UTC
    if offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError("not a time")
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    if tz:
        from zoneinfo import ZoneInfo

        return ZoneInfo(tz)
    return UTC


def _from_epoch(value: float) -> datetime:
    if value < 0 or value != value:
        raise ValueError("not a time")
    seconds = value / 1000 if value >= _EPOCH_MS_THRESHOLD else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise ValueError("not a time") from err


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """Text safe to store and show: no control characters, at most `limit` chars."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    text = _CONTROL.sub("", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def clean_labels(labels: dict[str, Any], limit: int = 1024) -> dict[str, str]:
    """Labels as short clean strings."""
    return {clean_text(k, 128): clean_text(v, limit) for k, v in labels.items()}


def label_digest(labels: dict[str, str]) -> str:
    """A stable key from a label set: the same labels always give the same key."""
    canonical = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def strip_port(instance: str) -> str:
    """`db-7:9187` -> `db-7`; `[::1]:80` -> `::1`; a bare host is kept."""
    if instance.startswith("["):
        return instance[1:].split("]", 1)[0]
    if instance.count(":") == 1:
        return instance.rsplit(":", 1)[0]
    return instance
