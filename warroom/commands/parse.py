"""`warroom parse`: run a source's parser on a saved body, without a server.

The first thing to try when a source "doesn't work": it prints the alerts the
body yields, why it is ignored, or the rejection and its reasons (exit 1).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from bus import wire
from engine.integrations import PARSERS, ParseContext, PayloadRejected
from warroom.common import Failure, add_config_option, iso, load, out

REJECTED = 1


def register(sub) -> None:
    parser = sub.add_parser(
        "parse", help="run a source's parser on a saved body and print the alerts"
    )
    parser.add_argument("file", metavar="FILE", help="the body; - reads stdin")
    parser.add_argument("--kind", choices=sorted(PARSERS), default=None)
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_config_option(parser)
    parser.add_argument(
        "--integration",
        default=None,
        metavar="NAME",
        help="take the kind, time zone and service of this configured integration",
    )
    parser.add_argument(
        "--timezone",
        default=None,
        metavar="ZONE",
        help="the sender's IANA zone for times without one (Zabbix)",
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    context = context_of(args)
    body = _read(args.file)
    try:
        alerts = PARSERS[context.kind](body, context)
    except PayloadRejected as err:
        _print_rejection(err, args.json)
        return REJECTED
    if args.json:
        out(json.dumps(_accepted_json(alerts, context), indent=2, ensure_ascii=False))
    else:
        out(_describe(alerts, context))
    return 0


def context_of(args) -> ParseContext:
    """The parse context the arguments describe: a configured one, or a kind."""
    name, kind = args.integration or "cli", args.kind
    zone, service = args.timezone, None
    if args.integration:
        integration = load(args).integrations.get(args.integration)
        if integration is None:
            raise Failure(f"--integration: no integration {args.integration!r}")
        if kind and kind != integration.kind:
            raise Failure(
                f"--kind {kind}, but integration {name!r} is {integration.kind}"
            )
        kind, service = integration.kind, integration.service
        zone = zone or integration.timezone
    if not kind:
        raise Failure("say which parser: --kind KIND, or --integration NAME")
    return ParseContext(name, kind, datetime.now(UTC), zone, service)


def _read(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(file).read_bytes()
    except OSError as err:
        raise Failure(f"cannot read {file}: {err.strerror or err}") from err


def _print_rejection(err: PayloadRejected, as_json: bool) -> None:
    if as_json:
        answer = {"outcome": "reject", "status": err.status, "problems": err.problems}
        out(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    print(f"rejected (HTTP {err.status}):", file=sys.stderr)
    for problem in err.problems:
        print(f"  {problem}", file=sys.stderr)


def _accepted_json(alerts: list[wire.Alert], context: ParseContext) -> dict:
    if not alerts:
        return {"outcome": "ignore", "reason": "; ".join(context.notes), "alerts": []}
    return {"outcome": "accept", "alerts": [_alert_json(a) for a in alerts]}


def _alert_json(alert: wire.Alert) -> dict:
    return {
        "status": alert.status,
        "dedup_key": alert.dedup_key,
        "severity": alert.severity,
        "title": alert.title,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "starts_at": iso(alert.starts_at),
        "ends_at": iso(alert.ends_at),
        "group_key": alert.group_key,
        "group_title": alert.group_title,
    }


def _describe(alerts: list[wire.Alert], context: ParseContext) -> str:
    if not alerts:
        return f"ignored: {'; '.join(context.notes) or 'nothing to act on'}"
    blocks = [f"{len(alerts)} alert(s)"]
    for i, alert in enumerate(alerts, 1):
        labels = ", ".join(f"{k}={v}" for k, v in alert.labels.items()) or "-"
        blocks.append(
            f"\n{i}. {alert.status} {alert.severity or '(inherited)'}: "
            f"{alert.title or '(no title)'}\n"
            f"   dedup_key  {alert.dedup_key}\n"
            f"   starts_at  {iso(alert.starts_at) or '-'}\n"
            f"   ends_at    {iso(alert.ends_at) or '-'}\n"
            f"   labels     {labels}"
        )
    return "\n".join(blocks)
