"""The demo's feed tells three stories, through the real gateway and parsers."""

from __future__ import annotations

import subprocess
import sys

from bus.client import EngineClient
from engine.config import load_config
from tests.conftest import free_port, wait_for
from warroom.commands.demo import DEMO_CONFIG
from warroom.feed import Feed
from warroom.stack import Settings, Stack


async def test_feed_opens_the_three_demo_incidents(tmp_path):
    config = load_config(DEMO_CONFIG)
    stack = Stack(Settings(config=config, data_dir=tmp_path, http_port=0))
    await stack.start()
    try:
        tokens = {i.kind: i.token for i in config.integrations.values()}
        await Feed(f"http://127.0.0.1:{stack.settings.http_port}", tokens, pace=0).run(
            rounds=16
        )
        client = EngineClient(stack.nc)

        async def told():
            found = await client.incidents("all")
            severities = {(i.service, i.severity) for i in found}
            closed = {i.service for i in found if i.close_reason == "auto"}
            wanted = {("orders-db", "critical"), ("checkout-api", "critical")}
            return found if wanted <= severities and "edge-probe" in closed else None

        incidents = await wait_for(told)
    finally:
        await stack.stop()
    by_service = {}
    for incident in incidents:
        by_service.setdefault(incident.service, []).append(incident)
    # Three database hosts in one Alertmanager group, one of them critical.
    disk = by_service["orders-db"][0]
    assert (disk.alert_count, disk.severity) == (3, "critical")
    # The error rate climbed past 10%: its incident was raised to critical.
    assert by_service["checkout-api"][0].severity == "critical"
    # The flapping probe recovered between failures: resolved incidents, auto.
    assert any(i.close_reason == "auto" for i in by_service["edge-probe"])


def test_demo_runs_headless_and_stops_cleanly(tmp_path):
    data = tmp_path / "data"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "warroom",
            "demo",
            "--no-console",
            "--rounds",
            "6",
            "--data",
            str(data),
            "--http",
            f"127.0.0.1:{free_port()}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # logs went to the data directory, not the terminal
    log = (data / "warroom.log").read_text()
    assert "engine started" in log and "Traceback" not in log
    assert (data / "warroom.db").exists()
    # The demo's pager stood in for the on-call person's phone.
    pages = (data / "pages.log").read_text()
    assert " to " in pages and "orders-db" in pages
