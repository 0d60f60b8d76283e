"""Conversions between the core's model, the store's rows and the wire types."""

from __future__ import annotations

from typing import Any

from bus import wire
from engine.core.model import AlertRecord, Incident, TimelineEntry
from engine.core.silence import Silence


def incident_row(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity,
        "state": incident.state,
        "service": incident.service,
        "team": incident.team,
        "owner": incident.owner,
        "group_key": incident.group_key,
        "alert_count": incident.alert_count,
        "created_at": incident.created_at,
        "acknowledged_at": incident.acknowledged_at,
        "resolved_at": incident.resolved_at,
        "close_reason": incident.close_reason,
        "last_event_id": incident.last_event_id,
        "paged": incident.paged,
        "page_due": incident.page_due,
    }


def alert_row(record: AlertRecord) -> dict[str, Any]:
    return {
        "incident_id": record.incident_id,
        "integration": record.integration,
        "dedup_key": record.dedup_key,
        "source": record.source,
        "status": record.status,
        "severity": record.severity,
        "title": record.title,
        "labels": record.labels,
        "annotations": record.annotations,
        "starts_at": record.starts_at,
        "ends_at": record.ends_at,
        "last_seen_at": record.last_seen_at,
        "count": record.count,
        "paged": record.paged,
        "hold": record.hold,
    }


def repeat_row(record: AlertRecord) -> dict[str, Any]:
    return {
        "incident_id": record.incident_id,
        "integration": record.integration,
        "dedup_key": record.dedup_key,
        "annotations": record.annotations,
        "last_seen_at": record.last_seen_at,
        "count": record.count,
    }


def event_row(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "incident_id": entry.incident_id,
        "type": entry.type,
        "at": entry.at,
        "actor": entry.actor,
        "text": entry.text,
        "data": entry.data,
    }


def incident_from_rows(row: dict[str, Any], alerts: list[dict[str, Any]]) -> Incident:
    incident = Incident(
        **{k: row[k] for k in row if k not in ("alert_count",)},
        stored=True,
    )
    for alert in alerts:
        record = AlertRecord(**alert, stored=True)
        incident.alerts[record.key] = record
    return incident


def summary_of(incident: Incident) -> wire.IncidentSummary:
    return wire.IncidentSummary(
        id=incident.id,
        title=incident.title,
        severity=incident.severity,  # type: ignore[arg-type]
        state=incident.state,  # type: ignore[arg-type]
        service=incident.service,
        team=incident.team,
        owner=incident.owner,
        alert_count=incident.alert_count,
        created_at=incident.created_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        close_reason=incident.close_reason,  # type: ignore[arg-type]
        last_event_id=incident.last_event_id,
    )


def summary_from_row(row: dict[str, Any]) -> wire.IncidentSummary:
    fields = {k: row[k] for k in wire.IncidentSummary.__struct_fields__ if k in row}
    return wire.IncidentSummary(**fields)


def event_of(entry: TimelineEntry | dict[str, Any], summary=None) -> wire.Event:
    row = event_row(entry) if isinstance(entry, TimelineEntry) else entry
    return wire.Event(
        id=row["id"],
        incident_id=row["incident_id"],
        type=row["type"],
        at=row["at"],
        actor=row["actor"],
        text=row["text"],
        data=row["data"] or {},
        incident=summary,
    )


def alert_view(row: dict[str, Any]) -> wire.AlertView:
    fields = {k: row[k] for k in wire.AlertView.__struct_fields__ if k in row}
    hold = row.get("hold") or {}
    fields.update(
        paged=bool(row.get("paged")),
        held_by=hold.get("stage"),
        held_reason=hold.get("reason"),
        held_detail=hold.get("detail"),
    )
    return wire.AlertView(**fields)


def silence_row(silence: Silence) -> dict[str, Any]:
    return {
        "id": silence.id,
        "matchers": list(silence.matchers),
        "starts_at": silence.starts_at,
        "ends_at": silence.ends_at,
        "created_by": silence.created_by,
        "comment": silence.comment,
        "expired_by": silence.expired_by,
    }


def silence_from_row(row: dict[str, Any]) -> Silence:
    return Silence(**{**row, "matchers": tuple(row["matchers"])})


def silence_view(row: dict[str, Any], now) -> wire.SilenceView:
    return wire.SilenceView(
        id=row["id"],
        matchers=list(row["matchers"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_by=row["created_by"],
        comment=row["comment"],
        expired_by=row["expired_by"],
        active=row["starts_at"] <= now < row["ends_at"],
    )
