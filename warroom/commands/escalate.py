"""`escalate`, `reassign` and `snooze`: moving an incident along its policy."""

from __future__ import annotations

from bus import wire
from engine.config import parse_duration
from warroom.commands.incidents import _actor, _call
from warroom.common import Failure, add_bus_options, out


def register(sub) -> None:
    parser = sub.add_parser("escalate", help="start the incident's next level now")
    _options(parser)
    parser.set_defaults(run=run_escalate)

    parser = sub.add_parser("reassign", help="give the incident to someone else")
    _options(parser)
    parser.add_argument("user", metavar="USER")
    parser.set_defaults(run=run_reassign)

    parser = sub.add_parser("snooze", help="quiet an acknowledged incident a while")
    _options(parser)
    parser.add_argument("duration", metavar="DURATION", help="such as 30m or 2h")
    parser.set_defaults(run=run_snooze)


def _options(parser) -> None:
    add_bus_options(parser)
    parser.add_argument("incident", type=int, metavar="INCIDENT")
    parser.add_argument("--as", dest="actor", default=None, metavar="HANDLE",
                        help="who acts (default: your login name)")  # fmt: skip


async def actor_of(args, client) -> str:
    """The acting user: --as, else the configured user with this login."""
    return await _actor(args, client)


async def _send(args, make) -> wire.IncidentSummary:
    async def action(client):
        return await client.command(make(await actor_of(args, client)))

    return await _call(args, action)


async def run_escalate(args) -> int:
    incident = await _send(
        args, lambda actor: wire.Escalate(incident=args.incident, actor=actor)
    )
    out(f"incident {incident.id} escalated")
    return 0


async def run_reassign(args) -> int:
    incident = await _send(args, lambda actor: wire.Reassign(
        incident=args.incident, actor=actor, user=args.user
    ))  # fmt: skip
    out(f"incident {incident.id} reassigned to {incident.owner}")
    return 0


async def run_snooze(args) -> int:
    try:
        seconds = parse_duration(args.duration)
    except ValueError as err:
        raise Failure(f"duration: {err}") from err
    incident = await _send(args, lambda actor: wire.Snooze(
        incident=args.incident, actor=actor, seconds=seconds
    ))  # fmt: skip
    out(f"incident {incident.id} snoozed for {args.duration}")
    return 0
