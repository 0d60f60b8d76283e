"""Escalation timer benchmark: how late level 2 starts, over 1,000 escalations.

Starts the stack in this process (embedded nats-server, SQLite in a
temporary directory), opens `--incidents` incidents spread over `--spread`
seconds, each under a policy whose level 1 lasts `--delay` seconds, and waits
until every one has reached level 2. Reports two latenesses, p50/p99/max:

- fired: when the engine's timer task took the timer, minus its due time;
- seen: when a separate subscriber received the level-2 `escalated` event
  (after its commit and publish), minus the due time.

    .venv/bin/python bench/escalation.py [--incidents 1000] [--delay 2] [--spread 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bus import wire  # noqa: E402
from engine.config import parse_config  # noqa: E402
from warroom.stack import Settings, Stack  # noqa: E402

CONFIG = """
teams: {ops: {members: [alice, bob]}}
users:
  alice: {name: Alice, contact_methods: {push: {apprise: "json://RECEIVER/alice"}}}
  bob: {name: Bob, contact_methods: {push: {apprise: "json://RECEIVER/bob"}}}
services: SERVICES
default_service: svc0
integrations:
  bench: {kind: generic, token: bench-generic-token-0000001}
escalation_policies:
  bench:
    levels:
      - {targets: [user:alice], delay: DELAYs}
      - {targets: [user:bob], delay: 1h}
"""


# Noise reduction calls 100 new alerts a minute on one service a storm:
# spread over enough services to stay below it, as unrelated incidents are.
SERVICES = 50


def config_text(delay: float, receiver: str = "127.0.0.1:9") -> str:
    services = ", ".join(
        f"svc{i}: {{team: ops, escalation_policy: bench}}" for i in range(SERVICES)
    )
    text = CONFIG.replace("SERVICES", "{" + services + "}").replace("DELAY", str(delay))
    return text.replace("RECEIVER", receiver)


_RECEIVER = """
import http.server, sys
class Accept(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Accept).serve_forever()
"""


def receiver() -> tuple[subprocess.Popen, str]:
    """A local HTTP receiver for the pages, in a process of its own.

    People must be reachable: a person whose every method fails is escalated
    past at once, and no timer would be measured. Out of process, so that
    answering pages does not compete with the engine being measured.
    """
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", _RECEIVER, str(port)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port)),
        ):
            return process, f"127.0.0.1:{port}"
        time.sleep(0.05)
    process.kill()
    raise SystemExit("the page receiver did not start")


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return (
        f"p50 {pick(0.5) * 1000:7.1f} ms   p99 {pick(0.99) * 1000:7.1f} ms   "
        f"max {ordered[-1] * 1000:7.1f} ms"
    )


async def run(incidents: int, delay: float, spread: float) -> None:
    pages, address = receiver()
    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config(config_text(delay, address), "bench.yaml")
        stack = Stack(Settings(config=config, data_dir=Path(tmp), http_port=0))
        stack.settings.http_port = _free_port()
        await stack.start()
        try:
            await _measure(stack, incidents, delay, spread)
        finally:
            await stack.stop()
            pages.kill()
            pages.wait()


async def _measure(stack: Stack, incidents: int, delay: float, spread: float) -> None:
    first: dict[int, datetime] = {}
    seen: list[float] = []
    done = asyncio.Event()

    async def on_event(msg) -> None:
        event = wire.event_decoder.decode(msg.data)
        if event.type != "escalated":
            return
        if event.data["level"] == 1:
            first[event.incident_id] = event.at
        elif event.data["level"] == 2 and event.incident_id in first:
            due = first[event.incident_id] + timedelta(seconds=delay)
            seen.append((datetime.now(UTC) - due).total_seconds())
            if len(seen) >= incidents:
                done.set()

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
        await asyncio.wait_for(done.wait(), timeout=spread + delay + 60)
    except TimeoutError:
        open_now = len(stack.engine.state.incidents)
        sys.exit(f"timed out: {len(first)} at level 1, {len(seen)} at level 2, "
                 f"{open_now} open")  # fmt: skip
    await listener.unsubscribe()
    fired = list(stack.engine.escalator.lateness)[-incidents:]
    print(
        f"{incidents} escalations, level 1 lasting {delay:g}s, opened over {spread:g}s"
    )
    print(f"  fired: {percentiles(fired)}")
    print(f"  seen:  {percentiles(seen)}")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--spread", type=float, default=5.0)
    args = parser.parse_args()
    if not 1 <= args.incidents <= 20_000:
        parser.error("--incidents: 1 to 20000")
    asyncio.run(run(args.incidents, args.delay, args.spread))


if __name__ == "__main__":
    main()
