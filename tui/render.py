"""How incidents and events read on screen: ages, times, coloured cells.

Colours come from the running theme's variables, so a cell's severity colour
follows the theme like the rest of the layout in `warroom.tcss`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.style import Style
from rich.text import Text

from bus import wire
from tui.durations import countdown


def age(at: datetime, now: datetime) -> str:
    """`42s`, `7m`, `3h`, `2d`: how long before `now`."""
    seconds = max(0, int((now - at).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def clock(at: datetime) -> str:
    """A time in the console's local zone, as the timeline shows it."""
    return at.astimezone().strftime("%m-%d %H:%M:%S")


def _colour(variables: Mapping[str, str], name: str) -> str | None:
    value = variables.get(name, "")
    # Theme colours may carry an alpha channel (#RRGGBBAA) that Rich rejects.
    return value[:7] if value.startswith("#") else None


class Palette:
    """Rich styles for cells, taken from a theme's CSS variables."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        error = _colour(variables, "text-error")
        warning = _colour(variables, "text-warning")
        muted = _colour(variables, "foreground-muted")
        success = _colour(variables, "text-success")
        self.severity = {
            "critical": Style(color=error, bold=True, reverse=True),
            "error": Style(color=error, bold=True),
            "warning": Style(color=warning),
            "info": Style(color=muted),
        }
        self.state = {
            "triggered": Style(color=warning, bold=True),
            "acknowledged": Style(color=success),
            "resolved": Style(color=muted),
        }
        self.muted = Style(color=muted)
        self.warning = Style(color=warning, bold=True)

    def severity_cell(self, severity: str) -> Text:
        """The severity of an incident or alert, in its colour."""
        return Text(severity, style=self.severity.get(severity, ""))

    def state_cell(self, state: str) -> Text:
        """The state of an incident, in its colour."""
        return Text(state, style=self.state.get(state, ""))


def incident_cells(
    incident: wire.IncidentSummary, now: datetime, palette: Palette
) -> dict[str, Text]:
    """The queue's cells for one incident, by column key."""
    dim = palette.muted if incident.state == "resolved" else ""
    return {
        "id": Text(str(incident.id), style=dim),
        "severity": palette.severity_cell(incident.severity),
        "state": palette.state_cell(incident.state),
        "age": Text(age(incident.created_at, now), style=dim),
        "service": Text(incident.service or "-", style=dim),
        "owner": Text(incident.owner or "-", style=dim),
        "alerts": Text(str(incident.alert_count), style=dim),
        "title": Text(incident.title, style=dim),
    }


def incident_status(incident: wire.IncidentSummary, now: datetime) -> str:
    """One line on what state the incident is in and since when."""
    match incident.state:
        case "acknowledged":
            since = incident.acknowledged_at or incident.created_at
            status = f"acknowledged by {incident.owner or '-'} at {clock(since)}"
        case "resolved":
            since = incident.resolved_at or incident.created_at
            status = f"resolved ({incident.close_reason or '-'}) at {clock(since)}"
            if incident.owner:
                status += f", owner {incident.owner}"
        case _:
            status = "triggered, nobody has acknowledged it"
    opened = (
        f"opened {age(incident.created_at, now)} ago at {clock(incident.created_at)}"
    )
    return f"{incident.severity} · {status} · {opened}"


def paged_text(alert: wire.AlertView) -> str:
    """`paged`, or which stage held the alert and why, as `warroom show` says."""
    if alert.paged:
        return f"paged after {alert.held_reason}" if alert.held_by else "paged"
    if alert.held_by:
        return f"held by {alert.held_by}: {alert.held_detail or alert.held_reason}"
    return "-"


def escalation_text(
    view: wire.EscalationView | None, incident: wire.IncidentSummary, now: datetime
) -> str:
    """One line on where the escalation stands, with its clock ticking."""
    if incident.state == "resolved":
        return "escalation: stopped, the incident is resolved"
    if view is None:
        return "escalation: loading"
    if view.snoozed_until is not None:
        return (
            f"snoozed: back to triggered in {countdown(view.snoozed_until, now)}"
            f" (at {clock(view.snoozed_until)})"
        )
    if view.policy is None:
        return "escalation: none running (no policy for the service, or no page)"
    name = f"escalation {view.policy}"
    if view.exhausted:
        return f"{name}: exhausted after {view.repeat + 1} pass(es) of {view.levels}"
    level = f"level {view.next_level} of {view.levels}"
    if view.repeat:
        level += f", repeat {view.repeat}"
    if view.due_at is not None:
        return f"{name}: {level} in {countdown(view.due_at, now)}"
    text = f"{name}: paused while acknowledged; {level} next"
    if view.ack_due_at is not None:
        text += f"; ack due: back to triggered in {countdown(view.ack_due_at, now)}"
    return text
