"""Ingest benchmark: a storm of alerts through the gateway and straight onto the bus.

Starts its own `warroom up` (embedded nats-server, SQLite) per mode in a
temporary directory and publishes `--alerts` alerts over `--keys` dedup keys,
each repeat with a new annotation value, as templated annotations do. Reports:

- alerts/s: all alerts published until the engine has committed the last one
  (its consumer's ack floor, which moves only after a batch's commit);
- latency p50/p99: from the publish of each key's first alert to its
  `alert_added` event on the EVENTS stream (repeats are counted on the alert,
  not put on the timeline, so they have no event of their own).

With `--noise all|none|both` it also reports what noise reduction made of
the storm (one incident per check, so that grouping alone cannot help):
incidents opened and pages decided with every stage configured (group_wait,
storm, flapping, an inhibit rule, a maintenance window, a silence) or with
none of them, read from the store once group_wait has let every page out.

    .venv/bin/python bench/ingest.py [--alerts 20000] [--keys 2000] [--mode both]
    .venv/bin/python bench/ingest.py --mode bus --noise both
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bus import wire  # noqa: E402
from bus.connection import connect  # noqa: E402

TOKEN = "bench-generic-token-0000001"
CONFIG = f"""
teams: {{ops: {{members: [op]}}}}
users: {{op: {{name: Operator}}}}
services:
  svc0: {{team: ops}}
  svc1: {{team: ops}}
  svc2: {{team: ops}}
default_service: svc0
integrations:
  bench: {{kind: generic, token: {TOKEN}}}
"""
# One incident per check in both noise modes; `all` adds every stage.
NOISE = {
    "none": """
routes: [{match: ['check=~.+'], service: svc0, group_by: [check]}]
storm: {threshold: 0}
flapping: {enabled: false}
""",
    "all": """
routes: [{match: ['check=~.+'], service: svc0, group_by: [check], group_wait: 5s}]
storm: {threshold: 100}
flapping: {changes: 4, window: 60m, mute: 120m}
inhibit_rules:
  - {source: ['alertname=BenchSiteDown'], target: ['severity=~warning|info'],
     equal: [site]}
""",
}
# An inactive window, so that the maintenance stage looks at every alert.
WINDOW = 'svc0: {team: ops, maintenance: [{days: [sun], from: "03:00", to: "03:01"}]}'


def _config(noise: str | None) -> str:
    if noise is None:
        return CONFIG
    text = CONFIG + NOISE[noise]
    return text.replace("svc0: {team: ops}", WINDOW) if noise == "all" else text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Up:
    """`warroom up` as a child process on a fresh data directory."""

    def __init__(self, workdir: Path, noise: str | None = None) -> None:
        self.workdir = workdir
        self.noise = noise
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    async def __aenter__(self) -> Up:
        config = self.workdir / "bench.yaml"
        config.write_text(_config(self.noise))
        log = open(self.workdir / "up.log", "wb")  # noqa: SIM115 - lives as long as the child
        data = self.workdir / "data"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "warroom", "up", "--config", str(config),
             "--data", str(data), "--http", f"127.0.0.1:{self.port}"],
            stdout=log, stderr=log, cwd=ROOT, env={"WARROOM_LOG": "warning"},
        )  # fmt: skip
        await self._healthy()
        return self

    async def _healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise SystemExit(f"warroom up did not start; see {self.workdir / 'up.log'}")

    @property
    def bus_url(self) -> str:
        return (self.workdir / "data" / "bus.url").read_text().strip()

    async def __aexit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)


class Latencies:
    """Each key's first publish time, matched later to its `alert_added` event."""

    def __init__(self, expected: int) -> None:
        self.sent: dict[str, float] = {}
        self.expected = expected

    def published(self, key: str, at: float) -> None:
        self.sent.setdefault(key, at)

    def samples(self, arrived: dict[str, float]) -> list[float]:
        return [arrived[k] - at for k, at in self.sent.items() if k in arrived]


def listen(bus_url: str, expected: int, timeout: float, ready, results) -> None:
    """In a process of its own, so that publishing never delays the listening:
    record when each dedup key's `alert_added` event arrives (CLOCK_MONOTONIC
    is the same clock in every process of the machine)."""

    async def run() -> dict[str, float]:
        arrived: dict[str, float] = {}
        done = asyncio.Event()

        async def on_event(msg) -> None:
            now = time.monotonic()
            data = json.loads(msg.data)
            if data["type"] == "alert_added":
                arrived.setdefault(data["data"]["dedup_key"], now)
                if len(arrived) >= expected:
                    done.set()

        nc = await connect(bus_url, name="bench-listener")
        await nc.subscribe("warroom.events.>", cb=on_event)
        await nc.flush()
        ready.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout)
        await nc.close()
        return arrived

    results.put(asyncio.run(run()))


async def committed(nc, timeout: float) -> float:
    """Wait until the engine has committed every message in ALERTS; return when."""
    js = nc.jetstream()
    last = (await js.stream_info("ALERTS")).state.last_seq
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = await js.consumer_info("ALERTS", "engine")
        if info.ack_floor.stream_seq >= last:
            return time.monotonic()
        await asyncio.sleep(0.005)
    raise SystemExit(f"the engine did not commit {last} messages in {timeout:.0f}s")


def generic_item(key: int, seq: int) -> dict:
    return {
        "source": "bench", "check": f"check-{key}", "state": "problem",
        "severity": "warning", "summary": f"bench check {key}", "ts": int(time.time()),
        "service": f"svc{key % 3}", "details": f"value {seq}",
    }  # fmt: skip


def bus_alert(key: int, seq: int) -> wire.Alert:
    return wire.Alert(
        integration="bench", source="bench", dedup_key=f"bench|check-{key}|",
        severity="warning", title=f"bench check {key}",
        labels={"service": f"svc{key % 3}", "check": f"check-{key}", "site": "s1"},
        annotations={"details": f"value {seq}"},
    )  # fmt: skip


async def storm_over_bus(nc, alerts: int, keys: int, lat: Latencies) -> None:
    js = nc.jetstream(publish_async_max_pending=4000)
    pending = []
    for seq in range(alerts):
        key = seq % keys
        lat.published(f"bench|check-{key}|", time.monotonic())
        pending.append(
            await js.publish_async(
                wire.SUBJECT_ALERTS, wire.encode(bus_alert(key, seq))
            )
        )
        if len(pending) >= 2000:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)


async def storm_over_gateway(
    port: int, alerts: int, keys: int, lat: Latencies, args
) -> None:
    """POST generic bodies of `--per-body` alerts from `--workers` senders."""
    url = f"http://127.0.0.1:{port}/v1/integrations/{TOKEN}"
    bodies = range(0, alerts, args.per_body)
    failures = 0

    async def worker(http, start: int) -> None:
        nonlocal failures
        for first in bodies[start :: args.workers]:
            items = []
            for seq in range(first, min(first + args.per_body, alerts)):
                lat.published(f"bench|check-{seq % keys}|", time.monotonic())
                items.append(generic_item(seq % keys, seq))
            async with http.post(url, data=msgspec.json.encode(items)) as response:
                if response.status != 202:
                    failures += 1
                await response.read()

    connector = aiohttp.TCPConnector(limit=args.workers)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(worker(http, w) for w in range(args.workers)))
    if failures:
        print(f"  {failures} requests were not answered 202")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def silence_nothing(nc) -> None:
    """An active silence that matches no alert: every alert is checked."""
    command = wire.AddSilence(
        matchers=["check=none"], duration=3600, comment="bench", actor="op"
    )
    await nc.request(f"{wire.SUBJECT_CMD}.silence_add", wire.encode(command), 5)


async def outcome(db: Path, timeout: float) -> tuple[int, int]:
    """Incidents opened and pages decided, once group_wait held none back."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            waiting, incidents = conn.execute(
                "SELECT SUM(page_due IS NOT NULL), COUNT(*) FROM incidents"
            ).fetchone()
            # An alert is marked paged when its arrival decided a page (a
            # storm un-marks those whose page it folded in).
            (pages,) = conn.execute(
                "SELECT COUNT(*) FROM alerts WHERE paged"
            ).fetchone()
        if not waiting:
            return incidents, pages or 0
        await asyncio.sleep(0.2)
    raise SystemExit(f"group_wait still held pages after {timeout:.0f}s")


async def run_mode(mode: str, args, noise: str | None = None) -> None:
    with tempfile.TemporaryDirectory(prefix=f"warroom-bench-{mode}-") as tmp:
        async with Up(Path(tmp), noise) as up:
            nc = await connect(up.bus_url, name="bench")
            if noise == "all":
                await silence_nothing(nc)
            lat = Latencies(min(args.keys, args.alerts))
            ready, results = multiprocessing.Event(), multiprocessing.Queue()
            listener = multiprocessing.Process(
                target=listen,
                args=(up.bus_url, lat.expected, args.timeout, ready, results),
            )
            listener.start()
            ready.wait(30)
            started = time.monotonic()
            if mode == "bus":
                await storm_over_bus(nc, args.alerts, args.keys, lat)
            else:
                await storm_over_gateway(up.port, args.alerts, args.keys, lat, args)
            published = time.monotonic()
            finished = await committed(nc, args.timeout)
            arrived = results.get(timeout=args.timeout)
            listener.join(10)
            await nc.close()
            if noise:
                db = Path(tmp) / "data" / "warroom.db"
                incidents, pages = await outcome(db, args.timeout)
                print(
                    f"noise {noise:4} {args.alerts} alerts in, {incidents} incidents "
                    f"opened, {pages} pages"
                )
    samples = lat.samples(arrived)
    if len(samples) < lat.expected:
        print(f"  only {len(samples)} of {lat.expected} first-alert events seen")
    ms = [s * 1000 for s in samples] or [0.0]
    print(
        f"{mode:8} {args.alerts} alerts over {args.keys} dedup keys"
        f"{f', {args.per_body} per body' if mode == 'gateway' else ''}: "
        f"{args.alerts / (finished - started):,.0f} alerts/s published to committed "
        f"(publishing took {published - started:.2f}s); "
        f"first-alert latency p50 {percentile(ms, 0.5):.0f} ms, "
        f"p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--keys", type=int, default=2_000)
    parser.add_argument("--mode", choices=["bus", "gateway", "both"], default="both")
    parser.add_argument(
        "--workers", type=int, default=32, help="concurrent HTTP senders"
    )
    parser.add_argument(
        "--per-body", type=int, default=1, help="alerts per HTTP body (gateway mode)"
    )
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument(
        "--noise", choices=["all", "none", "both"], default=None,
        help="one incident per check, with every noise stage or none",
    )  # fmt: skip
    args = parser.parse_args()
    noises = ("none", "all") if args.noise == "both" else (args.noise,)
    for mode in ("bus", "gateway") if args.mode == "both" else (args.mode,):
        for noise in noises:
            await run_mode(mode, args, noise)


if __name__ == "__main__":
    asyncio.run(main())
