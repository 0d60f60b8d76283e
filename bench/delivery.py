"""Delivery latency: incident opened to the first page at a local receiver.

Starts the stack in this process (embedded nats-server, SQLite in a
temporary directory, the channel worker) and a local HTTP receiver that
apprise's `json://` posts to. Opens `--incidents` incidents over `--spread`
seconds, with group_wait 0 and one level paging a user whose only rule is a
push at once, and reports, p50/p99/max, the time from each incident's
`opened` event to its push arriving at the receiver.

    .venv/bin/python bench/delivery.py [--incidents 500] [--spread 5]

On a 2-CPU machine: 500 over 5 s (100/s), p50 90-115 ms, p99 250-285 ms;
500 over 25 s (20/s), p50 27 ms, p99 35 ms. Each page takes two queue hops
(job, then step) and four key-value round trips before apprise sends it.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bus import wire  # noqa: E402
from engine.config import parse_config  # noqa: E402
from warroom.stack import Settings, Stack  # noqa: E402

SERVICES = 50  # below the storm threshold of 100 new alerts a minute per service
CONFIG = """
teams: {ops: {members: [alice]}}
users:
  alice:
    name: Alice
    contact_methods: {push: {apprise: 'json://127.0.0.1:PORT/alice'}}
    notification_rules: {high: [{method: push}]}
services: SERVICES
default_service: svc0
grouping: {group_wait: 0s}
notify: {bundle_window: 0s}  # each page on its own: the latency of one
integrations:
  bench: {kind: generic, token: bench-generic-token-0000001}
escalation_policies:
  bench:
    levels:
      - {targets: [user:alice], delay: 1h}
"""
INCIDENT = re.compile(r"\(incident (\d+)\)$")


def config_text(port: int) -> str:
    services = ", ".join(
        f"svc{i}: {{team: ops, escalation_policy: bench}}" for i in range(SERVICES)
    )
    return CONFIG.replace("SERVICES", "{" + services + "}").replace("PORT", str(port))


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return (
        f"p50 {pick(0.5) * 1000:7.1f} ms   p99 {pick(0.99) * 1000:7.1f} ms   "
        f"max {ordered[-1] * 1000:7.1f} ms"
    )


class Receiver:
    """Records when each incident's first push arrived."""

    def __init__(self, expected: int) -> None:
        self.arrived: dict[int, datetime] = {}
        self.expected = expected
        self.done = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        found = INCIDENT.search(body.get("title", ""))
        if found:
            self.arrived.setdefault(int(found.group(1)), datetime.now(UTC))
            if len(self.arrived) >= self.expected:
                self.done.set()
        return web.json_response({"ok": True})


async def run(incidents: int, spread: float) -> None:
    receiver = Receiver(incidents)
    app = web.Application()
    app.router.add_post("/{path:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = parse_config(config_text(port), "bench.yaml")
            settings = Settings(config=config, data_dir=Path(tmp), http_port=0)
            stack = Stack(settings)
            await stack.start()
            try:
                await _measure(stack, receiver, incidents, spread)
            finally:
                await stack.stop()
    finally:
        await runner.cleanup()


async def _measure(stack: Stack, receiver: Receiver, incidents: int, spread: float):
    opened: dict[int, datetime] = {}

    async def on_event(msg) -> None:
        event = wire.event_decoder.decode(msg.data)
        if event.type == "opened":
            opened[event.incident_id] = event.at

    listener = await stack.nc.subscribe(f"{wire.SUBJECT_EVENTS}.>", cb=on_event)
    js = stack.nc.jetstream()
    started = time.monotonic()
    for i in range(incidents):
        alert = wire.Alert(
            integration="bench", source="generic", dedup_key=f"k{i}",
            severity="critical", title=f"bench {i}", group_key=f"g{i}",
            labels={"service": f"svc{i % SERVICES}"},
        )  # fmt: skip
        await js.publish(wire.SUBJECT_ALERTS, wire.encode(alert))
        pause = started + spread * (i + 1) / incidents - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
    try:
        await asyncio.wait_for(receiver.done.wait(), timeout=spread + 120)
    except TimeoutError:
        sys.exit(
            f"timed out: {len(opened)} opened, {len(receiver.arrived)} pages arrived"
        )
    await listener.unsubscribe()
    latency = [
        (at - opened[n]).total_seconds()
        for n, at in receiver.arrived.items()
        if n in opened
    ]
    print(f"{incidents} incidents opened over {spread:g}s, group_wait 0")
    print(f"  opened -> push at the receiver: {percentiles(latency)}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--spread", type=float, default=5.0)
    args = parser.parse_args()
    if not 1 <= args.incidents <= 5000:
        parser.error("--incidents: 1 to 5000")
    asyncio.run(run(args.incidents, args.spread))


if __name__ == "__main__":
    main()
