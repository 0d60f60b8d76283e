"""Paging: the pipeline's last stage puts the alert on its incident and pages.

An alert pages when it opens an incident, reopens one, or joins one that has
not paged yet; every other alert leaves a `suppressed` event with the reason
of the stage that held it (`grouped` when its incident has paged already).
A route's `group_wait` holds an incident's first page for a few seconds as
a timer the shell fires, so a burst arriving together makes one page, and an
incident resolved before then pages nobody. Held alerts are released (their
incident pages) when what held them ends: a silence, a maintenance window,
the source of an inhibition.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.core import grouping, incident, inhibit, storm
from engine.core.model import Effects, Hold, Incident, Page, State, Timer

if TYPE_CHECKING:
    from engine.core.model import AlertRecord
    from engine.core.step import Step


def stage(step: Step) -> None:
    """Pipeline stage: join or open the incident, then page or say why not."""
    if step.record is not None:
        _decide(step, step.incident, step.record, "reopened", False)  # type: ignore[arg-type]
        return
    owner, reason = step.incident, step.page_reason
    if owner is None:
        owner = incident.open_incident(
            step.state, step.alert, step.group_key or "", step.destination,  # type: ignore[arg-type]
            step.now, step.effects, step.title,
        )  # fmt: skip
        if step.page_reason == "storm":
            storm.fold(
                step.state, owner.id, owner.service or "", step.now, step.effects
            )
    elif owner.paged:
        reason = ""
    record, raised = incident.add_alert(
        step.state, owner, step.alert, step.now, step.effects
    )
    if step.title:
        owner.title = step.title
    _after_add(step, owner, record)
    _decide(step, owner, record, reason or "alert_added", raised and not reason)


def _after_add(step: Step, owner: Incident, record: AlertRecord) -> None:
    inhibit.note_firing(step.state, record, owner, step.policy)
    if grouping.is_full(owner, step.rule):
        step.state.record(
            step.effects, owner, "group_full", step.now, "engine",
            f"group full at {owner.alert_count} alerts: the next starts a new incident",
            max_alerts=owner.alert_count,
        )  # fmt: skip


def _decide(
    step: Step, owner: Incident, record: AlertRecord, reason: str, raised: bool
) -> None:
    hold = step.hold
    covered = owner.paged and not (raised and owner.page_due is None)
    if hold is None and covered:
        hold = Hold("grouping", "grouped", f"joined incident {owner.id}, which paged")
    if hold is None:
        record.paged = True
        wait = step.rule.group_wait if step.rule else 0.0
        page(step.state, owner, "severity_raised" if raised else reason,
             step.now, step.effects, wait)  # fmt: skip
        return
    suppress(step.state, owner, record, hold, step.now, step.effects)


def suppress(
    state: State, owner: Incident, record: AlertRecord, hold: Hold, now, effects
) -> None:
    """Record on the timeline that an alert did not page, and why."""
    record.hold = hold.as_dict()
    effects.touch_alert(record)
    state.record(
        effects, owner, "suppressed", now, "engine",
        f"alert {record.title!r} did not page: {hold.detail}",
        dedup_key=record.dedup_key, reason=hold.reason, stage=hold.stage,
        detail=hold.detail,
    )  # fmt: skip


def page(
    state: State,
    owner: Incident,
    reason: str,
    now: datetime,
    effects: Effects,
    wait: float = 0.0,
) -> None:
    """Decide that the incident pages: now, or after `wait` for a first page."""
    owner.paged = True
    effects.touch(owner)
    if wait > 0 and reason in ("opened", "storm"):
        owner.page_due = now + timedelta(seconds=wait)
        effects.timers.append(Timer(owner.page_due, "group_wait", str(owner.id)))
        return
    effects.pages.append(Page(owner.id, reason, now))


def page_raise(step: Step, owner: Incident) -> None:
    """A repeat raised the severity: page, unless the first page is held."""
    if owner.is_open and owner.paged and owner.page_due is None:
        step.effects.pages.append(Page(owner.id, "severity_raised", step.now))


def fire_group_wait(state: State, incident_id: int, now: datetime, effects) -> None:
    """Timer: group_wait is over; the first page goes out if still due."""
    owner = state.incidents.get(incident_id)
    if owner is None or owner.page_due is None or not owner.is_open:
        return
    owner.page_due = None
    effects.touch(owner)
    reason = (
        "storm" if owner.group_key == storm.storm_key(owner.service or "") else "opened"
    )
    effects.pages.append(Page(owner.id, reason, now))


def holding(state: State, ref: str) -> list[Incident]:
    """Open incidents with firing alerts held by `ref`."""
    return [i for i in list(state.incidents.values()) if i.is_open and _held(i, ref)]


def _held(owner: Incident, ref: str) -> list[AlertRecord]:
    return [
        r
        for r in owner.alerts.values()
        if r.hold and r.hold.get("ref") == ref and r.status == "firing"
    ]


def release(
    state: State,
    ref: str,
    reason: str,
    now: datetime,
    effects: Effects,
    why: str,
    always: bool = False,
) -> None:
    """What held alerts ended: their quiet incidents page (any, if `always`)."""
    for owner in holding(state, ref):
        held = _held(owner, ref)
        if owner.paged and not always:
            continue
        for record in held:
            record.paged = True
            effects.touch_alert(record)
        state.record(
            effects, owner, "released", now, "engine",
            f"{why}: {len(held)} held alert(s) still firing page now",
            ref=ref, dedup_keys=[r.dedup_key for r in held], reason=reason,
        )  # fmt: skip
        page(state, owner, reason, now, effects)
