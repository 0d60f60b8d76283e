"""iCalendar text (RFC 5545) for a schedule's shifts, one VEVENT per shift.

Written by hand because the `icalendar` package is not a dependency: only
what a calendar subscription needs, with lines folded at 75 octets and text
escaped as section 3.3.11 says.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bus import wire

PRODID = "-//warroom//schedule export//EN"


def calendar(schedule: str, shifts: list[wire.ShiftView], now: datetime) -> str:
    """A VCALENDAR of the shifts, times in UTC, CRLF line ends."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_text(f'on call: {schedule}')}",
    ]
    for shift in shifts:
        lines += _event(schedule, shift, now)
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _event(schedule: str, shift: wire.ShiftView, now: datetime) -> list[str]:
    uid = f"{schedule}-{_stamp(shift.start)}-{shift.user}@warroom"
    summary = f"{shift.user} on call ({schedule}, {shift.source})"
    return [
        "BEGIN:VEVENT",
        f"UID:{_text(uid)}",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(shift.start)}",
        f"DTEND:{_stamp(shift.end)}",
        f"SUMMARY:{_text(summary)}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on lines starting with a space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1  # never cut inside a UTF-8 sequence
        parts.append(data[start:end].decode())
        start, limit = end, 74
    return "\r\n ".join(parts)
