"""Maintenance windows: recurring weekly windows per service, like a silence.

A window names weekdays and a start and end time in a time zone; one that
ends at or before its start runs past midnight into the next day. An alert
of the service that fires inside a window is stored and shown as held by
maintenance; when the window ends, incidents it kept quiet page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.core.model import Timer

if TYPE_CHECKING:
    from engine.core.policy import MaintenanceWindow
    from engine.core.step import Step

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def window_end(window: MaintenanceWindow, now: datetime) -> datetime | None:
    """When the window that `now` falls in ends, or None outside it."""
    local = now.astimezone(window.tz)
    for back in (0, 1):  # today's window, or yesterday's running past midnight
        day = local.date() - timedelta(days=back)
        if day.weekday() not in window.days:
            continue
        start = datetime.combine(day, window.start, window.tz)
        end_day = day if window.end > window.start else day + timedelta(days=1)
        end = datetime.combine(end_day, window.end, window.tz)
        if start <= local < end:
            return end
    return None


def active(
    windows: tuple[MaintenanceWindow, ...], now: datetime
) -> tuple[MaintenanceWindow, datetime] | None:
    """The first window `now` falls in, with its end."""
    for window in windows:
        end = window_end(window, now)
        if end is not None:
            return window, end
    return None


def describe(window: MaintenanceWindow) -> str:
    days = ",".join(DAYS[d] for d in sorted(window.days))
    return f"{days} {window.start:%H:%M}-{window.end:%H:%M} {window.tz}"


def stage(step: Step) -> None:
    """Pipeline stage: hold alerts of a service inside its maintenance window."""
    if step.destination is None:
        return
    service = step.destination.service
    found = active(step.policy.maintenance(service), step.now)
    if found is None:
        return
    window, end = found
    step.held(
        "maintenance", "maintenance",
        f"maintenance window {window.name or describe(window)} "
        f"until {end.astimezone(step.now.tzinfo):%Y-%m-%d %H:%M}Z",
        f"maintenance:{service}",
    )  # fmt: skip
    step.effects.timers.append(Timer(end, "maintenance_ended", service))
