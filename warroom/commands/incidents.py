"""`incidents`, `show`, `ack`, `resolve` and `note`: the responder's verbs."""

from __future__ import annotations

import json

from bus import wire
from bus.client import CommandRefused
from bus.connection import BusError
from warroom.common import (
    Failure,
    add_bus_options,
    age,
    engine_client,
    iso,
    login_name,
    out,
    printable,
    table,
)

STATES = ("open", "triggered", "acknowledged", "resolved", "all")


def register(sub) -> None:
    parser = sub.add_parser("incidents", help="list incidents")
    add_bus_options(parser)
    parser.add_argument("--state", choices=STATES, default="open")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=list_incidents)

    parser = sub.add_parser("show", help="one incident with its alerts and timeline")
    add_bus_options(parser)
    parser.add_argument("incident", type=int, metavar="INCIDENT")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=show)

    parser = sub.add_parser("ack", help="acknowledge an incident")
    _actor_options(parser)
    parser.set_defaults(run=ack)

    parser = sub.add_parser("resolve", help="resolve an incident with a close reason")
    _actor_options(parser)
    parser.add_argument("--reason", required=True, choices=wire.MANUAL_CLOSE_REASONS)
    parser.add_argument("--note", default=None, metavar="TEXT")
    parser.set_defaults(run=resolve)

    parser = sub.add_parser("note", help="add a note to an incident's timeline")
    _actor_options(parser)
    parser.add_argument("text", metavar="TEXT")
    parser.set_defaults(run=note)


def _actor_options(parser) -> None:
    add_bus_options(parser)
    parser.add_argument("incident", type=int, metavar="INCIDENT")
    parser.add_argument(
        "--as",
        dest="actor",
        default=None,
        metavar="HANDLE",
        help="who acts (default: your login name)",
    )


def incident_json(incident: wire.IncidentSummary) -> dict:
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity,
        "state": incident.state,
        "service": incident.service,
        "team": incident.team,
        "owner": incident.owner,
        "alert_count": incident.alert_count,
        "created_at": iso(incident.created_at),
        "acknowledged_at": iso(incident.acknowledged_at),
        "resolved_at": iso(incident.resolved_at),
        "close_reason": incident.close_reason,
    }


def alert_json(alert: wire.AlertView) -> dict:
    return {
        "dedup_key": alert.dedup_key,
        "source": alert.source,
        "integration": alert.integration,
        "status": alert.status,
        "severity": alert.severity,
        "title": alert.title,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "starts_at": iso(alert.starts_at),
        "ends_at": iso(alert.ends_at),
        "last_seen_at": iso(alert.last_seen_at),
        "count": alert.count,
        "paged": alert.paged,
        "held_by": alert.held_by,
        "held_reason": alert.held_reason,
        "held_detail": alert.held_detail,
    }


def paged_text(alert: wire.AlertView) -> str:
    """`paged`, or the stage that held the alert and why."""
    if alert.paged:
        return "paged" if not alert.held_by else f"paged after {alert.held_reason}"
    if alert.held_by:
        return f"held by {alert.held_by}: {alert.held_detail or alert.held_reason}"
    return "-"


def event_json(event: wire.Event) -> dict:
    fields = {
        k: v for k, v in event.data.items() if k not in ("at", "type", "actor", "text")
    }
    return {
        "id": event.id,
        "at": iso(event.at),
        "type": event.type,
        "actor": event.actor,
        "text": event.text,
        **fields,
    }


async def _call(args, action):
    client = await engine_client(args)
    try:
        return await action(client)
    except CommandRefused as err:
        raise Failure(str(err)) from err
    except BusError as err:
        raise Failure(str(err)) from err
    finally:
        await client.nc.close()


async def list_incidents(args) -> int:
    incidents = await _call(args, lambda c: c.incidents(args.state))
    if args.json:
        out(
            json.dumps(
                [incident_json(i) for i in incidents], indent=2, ensure_ascii=False
            )
        )
        return 0
    if not incidents:
        out(f"no {args.state} incidents" if args.state != "all" else "no incidents")
        return 0
    rows = [
        [
            str(i.id),
            i.severity,
            i.state,
            age(i.created_at),
            i.service or "-",
            i.owner or "-",
            str(i.alert_count),
            printable(i.title),
        ]
        for i in incidents
    ]
    out(
        table(
            rows,
            ["ID", "SEVERITY", "STATE", "AGE", "SERVICE", "OWNER", "ALERTS", "TITLE"],
        )
    )
    return 0


async def show(args) -> int:
    detail = await _call(args, lambda c: c.incident(args.incident))
    if args.json:
        body = incident_json(detail.incident)
        body["alerts"] = [alert_json(a) for a in detail.alerts]
        body["timeline"] = [event_json(e) for e in detail.timeline]
        body["alerts_omitted"] = detail.alerts_omitted
        body["timeline_omitted"] = detail.timeline_omitted
        out(json.dumps(body, indent=2, ensure_ascii=False))
        return 0
    i = detail.incident
    out(f"incident {i.id}: {printable(i.title)}")
    out(
        f"  {i.severity}, {i.state}, service {i.service or '-'} "
        f"(team {i.team or '-'}), owner {i.owner or '-'}"
    )
    out(
        f"  opened {iso(i.created_at)}"
        + (
            f", resolved {iso(i.resolved_at)} ({i.close_reason})"
            if i.resolved_at
            else ""
        )
    )
    out("")
    rows = [
        [a.status, a.severity, printable(a.dedup_key), str(a.count), printable(a.title),
         paged_text(a)]
        for a in detail.alerts
    ]  # fmt: skip
    out(table(rows, ["STATUS", "SEVERITY", "DEDUP_KEY", "COUNT", "TITLE", "PAGED"]))
    if detail.alerts_omitted:
        out(f"... and {detail.alerts_omitted} more alerts (too many to show)")
    out("")
    if detail.timeline_omitted:
        out(f"... {detail.timeline_omitted} older events not shown")
    for e in detail.timeline:
        out(f"{iso(e.at)}  {e.type:<16} {e.actor:<14} {printable(e.text)}")
    return 0


async def _actor(args, client) -> str:
    if args.actor is not None:
        if not args.actor.strip():
            raise Failure("--as: an empty handle names nobody")
        return args.actor
    login = login_name()
    for user in await client.users():
        if login in user.logins or login == user.handle:
            return user.handle
    raise Failure(
        f"who are you? pass --as HANDLE (login {login!r} is no configured user)"
    )


async def ack(args) -> int:
    async def action(client):
        return await client.command(
            wire.Ack(incident=args.incident, actor=await _actor(args, client))
        )

    incident = await _call(args, action)
    out(f"incident {incident.id} acknowledged by {incident.owner}")
    return 0


async def resolve(args) -> int:
    async def action(client):
        actor = await _actor(args, client)
        return await client.command(
            wire.Resolve(
                incident=args.incident, actor=actor, reason=args.reason, note=args.note
            )
        )

    incident = await _call(args, action)
    out(f"incident {incident.id} resolved ({incident.close_reason})")
    return 0


async def note(args) -> int:
    async def action(client):
        return await client.command(
            wire.AddNote(
                incident=args.incident, actor=await _actor(args, client), text=args.text
            )
        )

    incident = await _call(args, action)
    out(f"note added to incident {incident.id}")
    return 0
