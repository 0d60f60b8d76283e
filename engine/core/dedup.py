"""Dedup: repeats and recoveries of an alert an open incident already holds.

A repeat updates the alert (last seen, count, annotations, a changed title
or severity) and never pages by itself; a person's acknowledgment and notes
are untouched. A repeat at a higher severity raises the incident's and pages
as a severity change, unless the alert is held by a stage that outlasts the
repeat (a silence, maintenance, an inhibition, flapping).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core import flapping, incident, inhibit, order, paging

if TYPE_CHECKING:
    from engine.core.model import AlertRecord
    from engine.core.step import Step

# Holds that belong to the alert, not to its first arrival.
STICKY = frozenset({"silence", "maintenance", "inhibit", "flapping"})


def stage(step: Step) -> None:
    """Pipeline stage: handle a known dedup key, or an orphan recovery."""
    incident_id = step.state.open_by_alert.get(step.key)
    if step.alert.status == "resolved":
        step.done = True
        if incident_id is not None:
            _recover(step, step.state.incidents[incident_id])
        elif step.key not in step.state.noise.resolved_by_alert:
            step.effects.orphans.append(step.alert)
            order.remember_recovery(step)  # its older firing may still come
    elif incident_id is not None:
        step.done = True
        _repeat(step, step.state.incidents[incident_id])


def _repeat(step: Step, owner) -> None:
    alert, now, effects = step.alert, step.now, step.effects
    record = owner.alerts[step.key]
    record.count += 1
    record.last_seen_at = now
    effects.touch_repeat(record)
    if alert.annotations:
        # Annotations often carry the current value ("disk 97%"): kept up to
        # date on the alert, but a new value alone is not a timeline event.
        record.annotations = dict(alert.annotations)
    changes = _changes(record, alert)
    if not changes:
        return  # a plain repeat: counted, never paged or put on the timeline
    _update(step, owner, record, changes)


def _update(step: Step, owner, record: AlertRecord, changes: dict[str, str]) -> None:
    state, now, actor = step.state, step.now, step.alert.integration
    step.effects.touch_alert(record)
    before = record.severity
    _apply(record, changes)
    what = ", ".join(f"{k} {v}" for k, v in changes.items())
    state.record(
        step.effects, owner, "alert_updated", now, actor,
        f"alert {record.title!r}: {what}",
        dedup_key=record.dedup_key, changes=changes, count=record.count,
    )  # fmt: skip
    if "status" in changes:
        flapping.note_change(step, owner.service or "")
        inhibit.note_firing(state, record, owner, step.policy)
    if record.severity == before:
        return
    raised = incident.follow_severity(state, owner, now, actor, step.effects)
    sticky = record.hold is not None and record.hold["stage"] in STICKY
    if raised and not sticky:
        paging.page_raise(step, owner)


def _changes(record: AlertRecord, alert) -> dict[str, str]:
    """What a repeat changes that a responder should see on the timeline."""
    changes: dict[str, str] = {}
    if record.status == "resolved":
        changes["status"] = "firing"
    if alert.severity and alert.severity != record.severity:
        changes["severity"] = alert.severity
    if alert.title and alert.title != record.title:
        changes["title"] = alert.title
    return changes


def _apply(record: AlertRecord, changes: dict[str, str]) -> None:
    if "status" in changes:
        record.status, record.ends_at = "firing", None
    record.severity = changes.get("severity", record.severity)
    record.title = changes.get("title", record.title)


def _recover(step: Step, owner) -> None:
    state, now, effects = step.state, step.now, step.effects
    record = owner.alerts[step.key]
    record.last_seen_at = now
    effects.touch_alert(record)
    if record.status == "resolved":
        return
    record.status = "resolved"
    record.ends_at = step.alert.ends_at or now
    order.remember_recovery(step)
    flapping.note_change(step, owner.service or "")
    state.record(
        effects, owner, "alert_resolved", now, step.alert.integration,
        f"alert {record.title!r} recovered", dedup_key=record.dedup_key,
    )  # fmt: skip
    if inhibit.note_recovered(state, record, owner, step.policy):
        why = f"inhibiting alert {record.title!r} recovered"
        ref = inhibit.source_ref(record)
        paging.release(state, ref, "inhibition_ended", now, effects, why, always=True)
    if all(a.status == "resolved" for a in owner.alerts.values()):
        incident.close(
            state, owner, "auto", "auto", now, effects, "every alert recovered"
        )
