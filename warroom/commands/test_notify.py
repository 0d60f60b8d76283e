"""`warroom test-notify USER [--method M]`: a test page through each method.

A new responder checks their phone before the first shift: every contact
method of the user (or the one named) gets one test page, straight from the
config, and each result is reported. Nothing needs `warroom up` except the
spoken part of a test call, which Plivo fetches from the gateway.
"""

from __future__ import annotations

import asyncio
import time

from channels.page import DeliveryFailed, Page
from warroom import delivery
from warroom.common import Failure, add_config_option, load, out, table, to_json

DEFAULT_CALLBACK = "http://127.0.0.1:8080"


def register(sub) -> None:
    parser = sub.add_parser(
        "test-notify", help="send a test page through each of a user's methods"
    )
    parser.add_argument("user", metavar="USER")
    parser.add_argument("--method", default=None, metavar="M", help="only this one")
    add_config_option(parser)
    parser.add_argument("--data", default=None, metavar="DIR", help="data directory")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


async def run(args) -> int:
    config = load(args)
    person = delivery.book_of(config).people.get(args.user)
    if person is None:
        raise Failure(f"unknown user {args.user!r}")
    methods = list(person.methods.values())
    if args.method:
        methods = [m for m in methods if m.name == args.method]
        if not methods:
            known = ", ".join(person.methods) or "none"
            raise Failure(f"{args.user} has no method {args.method!r} (has: {known})")
    if not methods:
        raise Failure(f"{args.user} has no contact methods")
    senders = delivery.senders_of(config, DEFAULT_CALLBACK)
    rows = await asyncio.gather(*(_try(senders, m) for m in methods))
    if args.json:
        out(to_json(rows))
    else:
        out(table(
            [[r["method"], r["channel"], r["result"], f"{r['seconds']:.1f}s",
              r["reason"]] for r in rows],
            ["METHOD", "CHANNEL", "RESULT", "TOOK", "REASON"],
        ))  # fmt: skip
    return 0 if all(r["result"] == "delivered" for r in rows) else 1


async def _try(senders, method) -> dict:
    """One test page through one method: its result, never its address."""
    started = time.monotonic()
    row = {"method": method.name, "channel": method.kind, "result": "delivered"}
    sender = senders.get(method.kind)
    try:
        if sender is None:
            raise DeliveryFailed(f"no {method.kind} delivery configured (plivo:)")
        await sender.send(method, Page(0, "test page", test=True))
        row["reason"] = ""
    except DeliveryFailed as err:
        row.update(result="failed", reason=err.reason)
    row["seconds"] = round(time.monotonic() - started, 3)
    return row
