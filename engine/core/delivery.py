"""Delivery results on the timeline: each attempt becomes a `notified` event."""

from __future__ import annotations

from datetime import datetime

from bus.wire import NotifyResult
from engine.core.model import Effects, Incident, State

ACTOR = "warroom"


def notified(
    state: State, incident: Incident, result: NotifyResult, now: datetime, effects
) -> Effects:
    """Record one delivery attempt as a `notified` event of its incident."""
    who = result.user or f"team {incident.team or '-'}'s room"
    text = f"{result.method} to {who}: {result.result}"
    if result.attempt > 1:
        text += f" (attempt {result.attempt})"
    if result.reason:
        text += f": {result.reason}"
    if result.result == "failed":
        text += "; giving up" if result.final else "; will retry"
    state.record(
        effects, incident, "notified", now, ACTOR, text,
        user=result.user, channel=result.channel, method=result.method,
        result=result.result, attempt=result.attempt, reason=result.reason,
        final=result.final,
    )  # fmt: skip
    return effects
