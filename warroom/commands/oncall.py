"""`oncall`, `schedule show|check|export` and `override add|list|remove`.

`oncall`, `schedule show` and `export` ask the engine, whose answers include
the run-time overrides; with no engine running they compute from the config
alone and say so. `schedule check` always works from the config, so a team
can run it in CI: it exits 1 when a schedule has a gap.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

from bus import wire
from bus.client import CommandRefused
from bus.connection import BusError
from engine.config import parse_duration
from engine.core import schedule as core
from engine.directory import directory_of, schedule_of
from engine.escalator import oncall_view, schedules_of_team, shift_view
from warroom import ics
from warroom.common import (
    Failure,
    add_bus_options,
    add_config_option,
    engine_client,
    iso,
    load,
    out,
    table,
)


def register(sub) -> None:
    parser = sub.add_parser("oncall", help="who is on call now (or then), and next")
    _options(parser)
    parser.add_argument("--team", default=None, metavar="T")
    parser.add_argument("--schedule", default=None, metavar="S")
    parser.add_argument("--at", default=None, metavar="TIME", help="ISO 8601 time")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run_oncall)
    _register_schedule(sub)
    _register_override(sub)


def _options(parser) -> None:
    add_bus_options(parser)
    add_config_option(parser)


def _register_schedule(sub) -> None:
    parser = sub.add_parser("schedule", help="a schedule's shifts, gaps and calendar")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    show = verbs.add_parser("show", help="the final shifts and where each came from")
    _options(show)
    show.add_argument("schedule", metavar="S")
    show.add_argument("--from", dest="start", default=None, metavar="D")
    show.add_argument("--days", type=int, default=7, metavar="N")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=run_show)
    check = verbs.add_parser("check", help="gaps, long runs and overlaps; 1 on a gap")
    add_config_option(check)
    check.add_argument("--data", default=None, help="data directory")
    check.add_argument("schedule", nargs="?", default=None, metavar="S")
    check.add_argument("--weeks", type=int, default=26, metavar="N")
    check.add_argument(
        "--limit", default="7d", metavar="DURATION",
        help="longest run one person may be on call (default 7d)",
    )  # fmt: skip
    check.set_defaults(run=run_check)
    export = verbs.add_parser("export", help="an iCalendar file, one event per shift")
    _options(export)
    export.add_argument("schedule", metavar="S")
    export.add_argument("--ics", action="store_true", required=True)
    export.add_argument("--days", type=int, default=90, metavar="N")
    export.add_argument("--user", default=None, metavar="U", help="only U's shifts")
    export.set_defaults(run=run_export)


def _register_override(sub) -> None:
    parser = sub.add_parser("override", help="put someone on call in a schedule")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    add = verbs.add_parser("add", help="add an override")
    add_bus_options(add)
    add.add_argument("schedule", metavar="S")
    add.add_argument("--user", required=True, metavar="U")
    add.add_argument("--from", dest="start", required=True, metavar="T")
    add.add_argument("--to", dest="end", required=True, metavar="T")
    add.add_argument("--replacing", default=None, metavar="U2")
    add.add_argument("--as", dest="actor", default=None, metavar="HANDLE")
    add.set_defaults(run=run_override_add)
    listing = verbs.add_parser("list", help="list overrides")
    add_bus_options(listing)
    listing.add_argument("schedule", nargs="?", default=None, metavar="S")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run_override_list)
    remove = verbs.add_parser("remove", help="remove an override")
    add_bus_options(remove)
    remove.add_argument("id", type=int, metavar="ID")
    remove.add_argument("--as", dest="actor", default=None, metavar="HANDLE")
    remove.set_defaults(run=run_override_remove)


# ---------------------------------------------------------------- helpers


def parse_time(text: str | None, default: datetime | None = None) -> datetime:
    """An ISO 8601 time; one without a zone is UTC. `now` is the default."""
    if text is None or text == "now":
        return default or datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise Failure(
            f"expected an ISO 8601 time such as 2024-11-03T01:30, got {text!r}"
        ) from err
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _ask(args, query) -> wire.QueryReply | None:
    """The engine's answer, or None (with a note) when no engine is running."""
    try:
        client = await engine_client(args)
    except Failure:
        print("warroom: no engine running: from the config, without overrides",
              file=sys.stderr)  # fmt: skip
        return None
    try:
        return await client.query(query)
    except CommandRefused as err:
        raise Failure(str(err)) from err
    except BusError:
        print("warroom: no engine answered: from the config, without overrides",
              file=sys.stderr)  # fmt: skip
        return None
    finally:
        await client.nc.close()


def _local(at: datetime | None, zone: str) -> str:
    if at is None:
        return "-"
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _shift_json(shift: wire.ShiftView | None) -> dict | None:
    if shift is None:
        return None
    return {
        "user": shift.user,
        "start": iso(shift.start),
        "end": iso(shift.end),
        "source": shift.source,
        "replacing": shift.replacing,
    }


# ---------------------------------------------------------------- oncall


async def run_oncall(args) -> int:
    at = parse_time(args.at)
    query = wire.GetOnCall(schedule=args.schedule, team=args.team, at=at)
    reply = await _ask(args, query)
    if reply is None:
        reply = _oncall_from_config(load(args), args.schedule, args.team, at)
    assert isinstance(reply, wire.OnCallList)
    if args.json:
        out(json.dumps([_oncall_json(v) for v in reply.schedules], indent=2))
        return 0
    rows = [
        [
            v.schedule,
            v.current.user if v.current else "nobody",
            v.current.source if v.current else "-",
            _local(v.current.start if v.current else None, v.timezone),
            _local(v.current.end if v.current else None, v.timezone),
            f"{v.next.user} at {_local(v.next.start, v.timezone)}" if v.next else "-",
        ]
        for v in reply.schedules
    ]
    out(table(rows, ["SCHEDULE", "ON CALL", "FROM", "SINCE", "UNTIL", "NEXT"]))
    return 0


def _oncall_from_config(config, name, team, at) -> wire.OnCallList:
    if name is not None and name not in config.schedules:
        raise Failure(f"unknown schedule {name!r}")
    if team is not None and team not in config.teams:
        raise Failure(f"unknown team {team!r}")
    directory = directory_of(config)
    names = [name] if name else schedules_of_team(config, team)
    return wire.OnCallList(
        at=at, schedules=[oncall_view(directory, n, at) for n in names]
    )


def _oncall_json(view: wire.OnCallView) -> dict:
    return {
        "schedule": view.schedule,
        "timezone": view.timezone,
        "current": _shift_json(view.current),
        "next": _shift_json(view.next),
    }


# ---------------------------------------------------------------- schedule


async def _shifts(args, days: int, start: datetime) -> wire.ShiftList:
    query = wire.GetShifts(schedule=args.schedule, start=start, days=days)
    reply = await _ask(args, query)
    if reply is not None:
        assert isinstance(reply, wire.ShiftList)
        return reply
    config = load(args)
    if args.schedule not in config.schedules:
        raise Failure(f"unknown schedule {args.schedule!r}")
    schedule = schedule_of(config, args.schedule)
    end = start + timedelta(days=days)
    shifts = core.final_shifts(schedule, (), start, end)
    return wire.ShiftList(
        schedule=args.schedule, timezone=schedule.zone.key, start=start, end=end,
        shifts=[shift_view(s) for s in shifts],
    )  # fmt: skip


async def run_show(args) -> int:
    found = await _shifts(args, args.days, parse_time(args.start))
    if args.json:
        out(json.dumps([_shift_json(s) for s in found.shifts], indent=2))
        return 0
    out(f"schedule {found.schedule} ({found.timezone})")
    rows = [
        [_local(s.start, found.timezone), _local(s.end, found.timezone), s.user,
         s.source + (f" replacing {s.replacing}" if s.replacing else "")]
        for s in found.shifts
    ]  # fmt: skip
    out(table(rows, ["START", "END", "USER", "FROM"]))
    return 0


def run_check(args) -> int:
    config = load(args)
    names = [args.schedule] if args.schedule else list(config.schedules)
    if args.schedule and args.schedule not in config.schedules:
        raise Failure(f"unknown schedule {args.schedule!r}")
    limit = timedelta(seconds=parse_duration(args.limit))
    start = datetime.now(UTC)
    end = start + timedelta(weeks=args.weeks)
    gaps = 0
    for name in names:
        schedule = schedule_of(config, name)
        report = core.check(schedule, (), start, end, limit)
        gaps += len(report.gaps)
        _print_report(name, schedule.zone.key, report, args.weeks)
    return 1 if gaps else 0


def _print_report(name: str, zone: str, report: core.Report, weeks: int) -> None:
    if not (report.gaps or report.long_runs or report.overlaps):
        out(f"schedule {name}: ok for the next {weeks} weeks")
        return
    for start, end in report.gaps:
        out(f"schedule {name}: gap from {_local(start, zone)} to {_local(end, zone)}")
    for user, start, end in report.long_runs:
        out(f"schedule {name}: {user} on call from {_local(start, zone)} "
            f"to {_local(end, zone)} in a row")  # fmt: skip
    for a, b in report.overlaps:
        out(f"schedule {name}: overrides {a} and {b} overlap")


async def run_export(args) -> int:
    # From a fixed midnight a week back, so a shift keeps its UID (and the
    # first event its start) in every export of the same day.
    now = datetime.now(UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=7)
    found = await _shifts(args, args.days + 7, start)
    shifts = [s for s in found.shifts if args.user in (None, s.user)]
    sys.stdout.write(ics.calendar(found.schedule, shifts, datetime.now(UTC)))
    return 0


# ---------------------------------------------------------------- overrides


async def _command(args, make) -> wire.Reply:
    from warroom.commands.escalate import actor_of

    client = await engine_client(args)
    try:
        return await client.reply(make(await actor_of(args, client)))
    except (CommandRefused, BusError) as err:
        raise Failure(str(err)) from err
    finally:
        await client.nc.close()


async def run_override_add(args) -> int:
    start, end = parse_time(args.start), parse_time(args.end)
    reply = await _command(args, lambda actor: wire.OverrideAdd(
        schedule=args.schedule, user=args.user, start=start, end=end,
        actor=actor, replacing=args.replacing,
    ))  # fmt: skip
    o = reply.override
    out(f"override {o.id}: {o.user} on call in {o.schedule} "
        f"from {iso(o.start)} to {iso(o.end)}")  # fmt: skip
    return 0


async def run_override_list(args) -> int:
    client = await engine_client(args)
    try:
        reply = await client.query(wire.ListOverrides(schedule=args.schedule))
    except (CommandRefused, BusError) as err:
        raise Failure(str(err)) from err
    finally:
        await client.nc.close()
    assert isinstance(reply, wire.OverrideList)
    if args.json:
        out(json.dumps([_override_json(o) for o in reply.overrides], indent=2))
        return 0
    if not reply.overrides:
        out("no overrides")
        return 0
    rows = [
        [str(o.id), o.schedule, o.user, iso(o.start), iso(o.end), o.replacing or "-",
         o.author]
        for o in reply.overrides
    ]  # fmt: skip
    out(table(rows, ["ID", "SCHEDULE", "USER", "FROM", "TO", "REPLACING", "AUTHOR"]))
    return 0


def _override_json(o: wire.OverrideView) -> dict:
    return {
        "id": o.id, "schedule": o.schedule, "user": o.user, "start": iso(o.start),
        "end": iso(o.end), "replacing": o.replacing, "author": o.author,
    }  # fmt: skip


async def run_override_remove(args) -> int:
    reply = await _command(
        args, lambda actor: wire.OverrideRemove(id=args.id, actor=actor)
    )
    out(f"override {reply.override.id} removed")
    return 0
