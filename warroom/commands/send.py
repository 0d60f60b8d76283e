"""`warroom send`: put one alert straight onto the bus, as a script would."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from bus import wire
from bus.connection import BusError, connect
from warroom.common import Failure, add_bus_options, bus_url, out


def register(sub) -> None:
    parser = sub.add_parser("send", help="send an alert onto the bus")
    add_bus_options(parser)
    parser.add_argument("title", metavar="TITLE")
    parser.add_argument("--service", required=True, metavar="S")
    parser.add_argument("--severity", required=True, choices=wire.SEVERITIES)
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="K=V",
        help="a label (repeatable)",
    )
    parser.add_argument(
        "--dedup-key", default=None, metavar="K", help="default: service and title"
    )
    parser.add_argument(
        "--resolve", action="store_true", help="send the recovery of this alert"
    )
    parser.set_defaults(run=run)


def parse_labels(items: list[str]) -> dict[str, str]:
    labels = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise Failure(f"--label: expected K=V, got {item!r}")
        labels[key.strip()] = value
    return labels


def alert_of(args) -> wire.Alert:
    labels = {**parse_labels(args.label), "service": args.service}
    key = (
        args.dedup_key
        or hashlib.sha256(f"{args.service}\x00{args.title}".encode()).hexdigest()[:16]
    )
    now = datetime.now(UTC)
    return wire.Alert(
        integration="cli",
        source="cli",
        dedup_key=key,
        status="resolved" if args.resolve else "firing",
        severity=args.severity,
        title=args.title,
        labels=labels,
        starts_at=None if args.resolve else now,
        ends_at=now if args.resolve else None,
        received_at=now,
    )


async def run(args) -> int:
    alert = alert_of(args)
    url = bus_url(args)
    try:
        nc = await connect(url, name="warroom-send", max_reconnect_attempts=0)
    except BusError as err:
        raise Failure(f"{err} (is `warroom up` running?)") from err
    try:
        await nc.jetstream().publish(
            wire.SUBJECT_ALERTS, wire.encode(alert), timeout=5.0
        )
    except Exception as err:
        raise Failure(f"the bus did not store the alert: {type(err).__name__}") from err
    finally:
        await nc.close()
    out(f"sent {alert.status} alert dedup_key={alert.dedup_key}")
    return 0
