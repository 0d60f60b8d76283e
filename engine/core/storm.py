"""Storms: past a rate of new alerts, a service's new problems become one.

When more than `threshold` new alerts of a service arrive within a minute,
each further alert that would open an incident of its own joins the
service's storm incident instead, which pages once and keeps a running
count in its title. Incidents of the service whose first page group_wait
was still holding are folded into the storm's page, so a burst that starts
a storm costs one page. Alerts that join an existing group still do.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.core.model import Effects, State

if TYPE_CHECKING:
    from engine.core.step import Step

MINUTE = timedelta(minutes=1)


def storm_key(service: str) -> str:
    return f"storm|{service}"


def title(service: str, count: int) -> str:
    return f"alert storm on {service}: {count} alerts"


def _rate(step: Step, service: str) -> int:
    times = step.state.noise.arrivals.setdefault(service, [])
    cut = 0
    while cut < len(times) and step.now - times[cut] >= MINUTE:
        cut += 1
    del times[:cut]
    times.append(step.now)
    return len(times)


def stage(step: Step) -> None:
    """Pipeline stage: count new alerts per service; divert them in a storm."""
    if step.record is not None or step.destination is None:
        return
    service = step.destination.service
    threshold = step.policy.storm_rule(service).threshold
    if not threshold or _rate(step, service) <= threshold or step.incident:
        return
    key = storm_key(service)
    storm = step.state.incidents.get(step.state.open_by_group.get(key, 0))
    step.group_key, step.incident = key, storm
    count = storm.alert_count + 1 if storm else 1
    step.title = title(service, count)
    if storm is None:
        step.page_reason = "storm"
        return
    step.held(
        "storm", "storm",
        f"storm on {service}: more than {threshold} new alerts a minute, "
        f"counted on incident {storm.id}",
    )  # fmt: skip


def fold(state: State, storm_id: int, service: str, now: datetime, effects) -> None:
    """The storm's page covers the held first pages of the service's incidents."""
    for incident in list(state.incidents.values()):
        if incident.service != service or incident.page_due is None:
            continue
        if incident.id == storm_id or not incident.is_open:
            continue
        incident.page_due = None
        _fold_alerts(state, incident, storm_id, now, effects)


def _fold_alerts(state: State, incident, storm_id: int, now, effects: Effects) -> None:
    detail = f"first page folded into storm incident {storm_id}"
    for record in incident.alerts.values():
        if not record.paged:
            continue
        record.paged = False
        record.hold = {"stage": "storm", "reason": "storm", "detail": detail, "ref": ""}
        effects.touch_alert(record)
        state.record(
            effects, incident, "suppressed", now, "engine",
            f"alert {record.title!r} did not page: {detail}",
            dedup_key=record.dedup_key, reason="storm", stage="storm", detail=detail,
        )  # fmt: skip
