"""`warroom rejected`: the bodies the gateway refused, read from the bus.

The gateway keeps each rejection in the capped REJECTED stream with its
integration, time and reason, so an operator can see that a source has been
misconfigured since Tuesday. No engine is needed, and no token is shown: the
gateway stored every one as `<secret>`.
"""

from __future__ import annotations

import json

import msgspec
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from bus.connection import REJECTED_STREAM, BusError, connect
from engine.gateway import RejectedBody, rejected_decoder
from warroom.common import Failure, add_bus_options, bus_url, iso, out, table

REASON_WIDTH = 100


def register(sub) -> None:
    parser = sub.add_parser(
        "rejected", help="list bodies the gateway rejected, and why (newest last)"
    )
    add_bus_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--limit", type=int, default=50, metavar="N", help="at most N (default 50)"
    )
    parser.add_argument(
        "--integration", default=None, metavar="NAME", help="only this integration"
    )
    parser.add_argument(
        "--body",
        type=int,
        default=None,
        metavar="SEQ",
        help="print the saved body of rejection SEQ (to try with `warroom parse`)",
    )
    parser.set_defaults(run=run)


async def run(args) -> int:
    url = bus_url(args)
    try:
        nc = await connect(url, name="warroom-rejected", max_reconnect_attempts=0)
    except BusError as err:
        raise Failure(f"{err} (is `warroom up` running?)") from err
    try:
        js = nc.jetstream()
        if args.body is not None:
            return await _print_body(js, args.body)
        records = await newest(js, max(args.limit, 0), args.integration)
    finally:
        await nc.close()
    out(_as_json(records) if args.json else _as_table(records))
    return 0


async def newest(
    js: JetStreamContext, limit: int, integration: str | None = None
) -> list[tuple[int, RejectedBody]]:
    """The last `limit` rejections (of one integration), oldest first."""
    try:
        state = (await js.stream_info(REJECTED_STREAM)).state
    except NotFoundError:
        return []
    found: list[tuple[int, RejectedBody]] = []
    seq = state.last_seq
    # Walks back at most the whole stream, which is capped at 10,000 messages.
    while seq >= max(state.first_seq, 1) and len(found) < limit:
        record = await _record(js, seq)
        if record and integration in (None, record.integration):
            found.append((seq, record))
        seq -= 1
    return found[::-1]


async def _record(js: JetStreamContext, seq: int) -> RejectedBody | None:
    try:
        message = await js.get_msg(REJECTED_STREAM, seq)
    except NotFoundError:
        return None  # deleted, or aged out while we read
    try:
        return rejected_decoder.decode(message.data or b"")
    except msgspec.DecodeError:
        return None


async def _print_body(js: JetStreamContext, seq: int) -> int:
    record = await _record(js, seq)
    if record is None:
        raise Failure(f"no rejection {seq} (see `warroom rejected` for the numbers)")
    out(record.body)
    return 0


def _as_json(records: list[tuple[int, RejectedBody]]) -> str:
    entries = [
        {
            "seq": seq,
            "integration": r.integration,
            "kind": r.kind,
            "received_at": iso(r.received_at),
            "status": r.status,
            "problems": r.problems,
            "size": r.size,
            "truncated": r.truncated,
        }
        for seq, r in records
    ]
    return json.dumps(entries, indent=2, ensure_ascii=False)


def _as_table(records: list[tuple[int, RejectedBody]]) -> str:
    if not records:
        return "no rejected bodies"
    rows = [
        [str(seq), iso(r.received_at), r.integration, r.kind, str(r.status), _reason(r)]
        for seq, r in records
    ]
    return table(rows, ["SEQ", "TIME", "INTEGRATION", "KIND", "STATUS", "REASON"])


def _reason(record: RejectedBody) -> str:
    reason = record.problems[0] if record.problems else "?"
    if len(reason) > REASON_WIDTH:
        reason = reason[: REASON_WIDTH - 1] + "…"
    more = len(record.problems) - 1
    return f"{reason} (+{more} more)" if more > 0 else reason
