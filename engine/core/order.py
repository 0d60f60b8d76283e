"""Order: alerts take effect in the source's event time, not in arrival order.

A firing whose own start is not after the last recovery of its dedup key is
an old message arriving late (a retry, a slow path): it changes nothing and
pages nobody. A recovery that ended before its alert's current firing
started belongs to an earlier episode and is dropped the same way. Only
times the source itself sent are compared, so clock skew between a source
and the engine never drops a message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bus.wire import Alert

if TYPE_CHECKING:
    from engine.core.step import Step

# How long a recovery's time is remembered per dedup key: a day of keys is a
# few hundred kilobytes, and a message older than a day is not "late".
MEMORY = timedelta(days=1)


def event_time(alert: Alert, now: datetime) -> datetime:
    """When the source says the alert started, or ended for a recovery."""
    if alert.status == "resolved":
        return alert.ends_at or now
    return alert.starts_at or now


def stage(step: Step) -> None:
    """Pipeline stage: drop what arrived after the state it would undo."""
    if _stale(step):
        step.effects.stale.append(step.alert)
        step.done = True


def _stale(step: Step) -> bool:
    alert = step.alert
    if alert.status == "resolved":
        incident_id = step.state.open_by_alert.get(step.key)
        if incident_id is None or alert.ends_at is None:
            return False
        record = step.state.incidents[incident_id].alerts[step.key]
        return record.starts_at is not None and alert.ends_at < record.starts_at
    recovered = step.state.noise.recovered.get(step.key)
    return (
        alert.starts_at is not None
        and recovered is not None
        and (alert.starts_at <= recovered)
    )


def remember_recovery(step: Step) -> None:
    """Keep the recovery's time, so that an older firing arriving later drops."""
    recovered = step.state.noise.recovered
    recovered.pop(step.key, None)
    recovered[step.key] = step.at


def prune(recovered: dict, now: datetime) -> None:
    """Forget recoveries older than MEMORY (the dict is in time order)."""
    while recovered:
        key, at = next(iter(recovered.items()))
        if now - at <= MEMORY:
            return
        del recovered[key]
