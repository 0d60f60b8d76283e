"""The demo's alert feed: three realistic problems, posted to the gateway over HTTP.

- orders-db fills its disks: an Alertmanager group of three alerts whose
  disk usage climbs, one of them turning critical;
- a synthetic probe of the shop flaps (generic problem/ok every few seconds),
  then stays failing, so there is something to acknowledge;
- checkout's error rate climbs: one Alertmanager alert whose severity rises
  from warning to error to critical.

It posts exactly what those sources would, so the demo exercises the same
parsers, gateway and engine as production.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import msgspec
from aiohttp import web

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def disk_body(usage: list[int], started: str) -> dict:
    """An Alertmanager group of DiskFull alerts, one per database host."""
    alerts = []
    for i, percent in enumerate(usage, start=1):
        severity = "critical" if percent >= 95 else "warning"
        alerts.append(
            {
                "status": "firing",
                "labels": {
                    "alertname": "DiskFull",
                    "service": "orders-db",
                    "instance": f"db-{i}.example.internal:9100",
                    "severity": severity,
                },
                "annotations": {
                    "summary": f"disk filling up on db-{i}",
                    "description": f"disk {percent}% full on db-{i}",
                    "runbook_url": "https://runbooks.example.internal/disk-full",
                },
                "startsAt": started,
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": f"demo-disk-{i}",
            }
        )
    return _group(alerts, "DiskFull", "orders-db")


def error_rate_body(percent: float, started: str, resolved: bool = False) -> dict:
    """Alertmanager's view of checkout's 5xx rate."""
    severity = "critical" if percent >= 10 else "error" if percent >= 5 else "warning"
    alert = {
        "status": "resolved" if resolved else "firing",
        "labels": {
            "alertname": "HighErrorRate",
            "service": "checkout-api",
            "severity": severity,
            "route": "/api/checkout",
        },
        "annotations": {
            "summary": "checkout 5xx rate climbing",
            "description": f"checkout 5xx rate at {percent:.1f}%",
        },
        "startsAt": started,
        "endsAt": _now() if resolved else "0001-01-01T00:00:00Z",
        "fingerprint": "demo-error-rate",
    }
    return _group([alert], "HighErrorRate", "checkout-api")


def _group(alerts: list[dict], name: str, service: str) -> dict:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "receiver": "warroom",
        "status": "firing" if firing else "resolved",
        "groupKey": f'{{}}:{{alertname="{name}", service="{service}"}}',
        "groupLabels": {"alertname": name, "service": service},
        "commonLabels": {"alertname": name, "service": service},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.internal:9093",
        "truncatedAlerts": 0,
        "alerts": alerts,
    }


def probe_body(up: bool) -> dict:
    """A synthetic HTTP probe reporting through the generic JSON schema."""
    return {
        "source": "synthetics",
        "check": "shop-homepage",
        "host": "shop.example.internal",
        "service": "edge-probe",
        "state": "ok" if up else "problem",
        "severity": "error",
        "summary": "shop homepage probe "
        + ("recovered" if up else "failing: HTTP 503"),
        "ts": _now(),
        "labels": {"probe": "https-eu-1"},
    }


FLAPPING_STEPS = 40  # the probe flaps for about 40 s, then stays failing


class Feed:
    """Posts the demo's problems to the gateway on a timeline of its own."""

    def __init__(
        self, base_url: str, tokens: dict[str, str], pace: float = 1.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens  # kind -> token
        self.pace = pace  # seconds per step; tests run the feed faster

    async def post(self, http: aiohttp.ClientSession, kind: str, body: dict) -> None:
        url = f"{self.base_url}/v1/integrations/{self.tokens[kind]}"
        try:
            async with http.post(url, data=msgspec.json.encode(body)) as response:
                if response.status >= 300:
                    log.warning("demo post refused status=%d", response.status)
        except aiohttp.ClientError as err:
            log.warning("demo post failed error=%s", err)

    async def run(self, rounds: int | None = None) -> None:
        """Play the scenario; `rounds` bounds it (None: until cancelled)."""
        async with aiohttp.ClientSession() as http:
            started = _now()
            step = 0
            while rounds is None or step < rounds:
                await self._step(http, step, started)
                step += 1
                await asyncio.sleep(self.pace)

    async def _step(self, http, step: int, started: str) -> None:
        if step % 5 == 0:
            usage = [min(99, 86 + step // 2 + i * 4) for i in range(3)]
            await self.post(http, "alertmanager", disk_body(usage, started))
        if step < FLAPPING_STEPS and step % 4 in (0, 1):
            await self.post(http, "generic", probe_body(up=step % 4 == 1))
        elif step == FLAPPING_STEPS:
            await self.post(http, "generic", probe_body(up=False))  # and stays down
        if step >= 3 and step % 6 == 3:
            percent = min(14.0, 2.5 + (step - 3) * 1.2)
            await self.post(http, "alertmanager", error_rate_body(percent, started))


async def run_feed(feed: Feed, rounds: int | None = None) -> None:
    """Run a feed, swallowing its cancellation at shutdown."""
    with contextlib.suppress(asyncio.CancelledError):
        await feed.run(rounds)


class Pager:
    """The demo's stand-in for everyone's phone and the teams' chat rooms.

    The demo config sends pages to `json://127.0.0.1:8081/<who>`; this
    receiver appends each one to `pages.log` in the data directory, so the
    demo shows deliveries, and escalations that wait for an acknowledgment,
    with no outside service.
    """

    def __init__(self, log_path: Path, host: str = "127.0.0.1", port: int = 8081):
        self.log_path = log_path
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> bool:
        """Listen; False (and a warning) when the port is taken."""
        app = web.Application()
        app.router.add_post("/{who}", self._page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as err:
            log.warning("demo pager cannot listen port=%d error=%s", self.port, err)
            await self.stop()
            return False
        return True

    async def _page(self, request: web.Request) -> web.Response:
        body = await request.json(loads=msgspec.json.decode)
        who = request.match_info["who"]
        title, message = body.get("title") or "", body.get("message") or ""
        text = message if title in message else f"{title}: {message}"
        line = f"{_now()} to {who}: {text.strip()}"
        with self.log_path.open("a", encoding="utf-8") as log_file:
            log_file.write(line.replace("\n", " ") + "\n")
        return web.json_response({"ok": True})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
