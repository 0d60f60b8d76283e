"""`silence add`, `silence list` and `silence expire`: run-time silences."""

from __future__ import annotations

import json

from bus import wire
from engine.config import parse_duration
from warroom.commands.incidents import _actor, _call
from warroom.common import Failure, add_bus_options, iso, out, table


def register(sub) -> None:
    parser = sub.add_parser("silence", help="silence alerts for a while, list, expire")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    add = verbs.add_parser("add", help="silence alerts that match every matcher")
    add_bus_options(add)
    add.add_argument(
        "matchers",
        nargs="+",
        metavar="MATCHER",
        help="name=value, name!=value, name=~regex or name!~regex",
    )
    add.add_argument(
        "--for",
        dest="duration",
        required=True,
        metavar="DURATION",
        help="how long, such as 30m or 2h",
    )
    add.add_argument("--comment", required=True, help="why, for whoever reads it later")
    _as(add)
    add.set_defaults(run=add_silence)

    listing = verbs.add_parser("list", help="active silences (--all: every one)")
    add_bus_options(listing)
    listing.add_argument("--all", action="store_true", help="expired ones too")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=list_silences)

    expire = verbs.add_parser("expire", help="end a silence now")
    add_bus_options(expire)
    expire.add_argument("silence", type=int, metavar="ID")
    _as(expire)
    expire.set_defaults(run=expire_silence)  # fmt: skip


def _as(parser) -> None:
    parser.add_argument("--as", dest="actor", default=None, metavar="HANDLE",
                        help="who acts (default: your login name)")  # fmt: skip


def silence_json(silence: wire.SilenceView) -> dict:
    return {
        "id": silence.id,
        "matchers": silence.matchers,
        "starts_at": iso(silence.starts_at),
        "ends_at": iso(silence.ends_at),
        "created_by": silence.created_by,
        "comment": silence.comment,
        "expired_by": silence.expired_by,
        "active": silence.active,
    }


async def add_silence(args) -> int:
    try:
        seconds = parse_duration(args.duration)
    except ValueError as err:
        raise Failure(f"--for: {err}") from err

    async def action(client):
        command = wire.AddSilence(
            matchers=args.matchers, duration=seconds, comment=args.comment,
            actor=await _actor(args, client),
        )  # fmt: skip
        return (await client.reply(command)).silence

    silence = await _call(args, action)
    matchers = ", ".join(silence.matchers)
    out(f"silence {silence.id} until {iso(silence.ends_at)}: {matchers}")
    return 0


async def list_silences(args) -> int:
    query = wire.ListSilences(all=args.all)
    reply = await _call(args, lambda client: client.query(query))
    if args.json:
        out(json.dumps([silence_json(s) for s in reply.silences], indent=2))
        return 0
    if not reply.silences:
        out("no silences" if args.all else "no active silences")
        return 0
    rows = [
        [str(s.id), "active" if s.active else "ended", iso(s.ends_at) or "",
         s.created_by, ", ".join(s.matchers), s.comment]
        for s in reply.silences
    ]  # fmt: skip
    out(table(rows, ["ID", "STATE", "ENDS", "BY", "MATCHERS", "COMMENT"]))
    return 0


async def expire_silence(args) -> int:
    async def action(client):
        command = wire.ExpireSilence(
            silence=args.silence, actor=await _actor(args, client)
        )
        return (await client.reply(command)).silence

    silence = await _call(args, action)
    out(f"silence {silence.id} expired by {silence.expired_by}")
    return 0
