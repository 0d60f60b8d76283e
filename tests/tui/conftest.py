"""A stack whose config pages: schedules, an escalation policy, a quick warning."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from engine.config import parse_config
from tests.conftest import TEST_CONFIG, free_port
from warroom.stack import Settings, Stack

# The shared test config, with the db service escalating: whoever is on call
# in `primary` first, carol an hour later, and an ack that times out after
# 30 minutes. Checkout has no policy. A silence says it is about to end 2 s
# before it does, so a test can see that without waiting ten minutes.
PAGING = """
services:
  db: {team: database, escalation_policy: db, ack_timeout: 30m}
schedules:
  primary:
    timezone: Europe/London
    layers:
      - {members: [alice, bob], shift: 1d, handoff: "09:00", start: 2024-01-01}
  web:
    timezone: America/Chicago
    layers:
      - {members: [carol, dave], shift: 1w, handoff: "09:00", start: 2024-01-01}
escalation_policies:
  db:
    levels:
      - {targets: [schedule:primary], delay: 1h}
      - {targets: [user:carol], delay: 1h}
silences: {warn_before: 2s}
"""

# People must be reachable: a person whose every contact method fails is
# escalated past at once, and the countdown tests need level 1 to wait.
REACHABLE = """
users:
  alice: {name: Alice, logins: [alice], contact_methods: {push: {apprise: "json://RECEIVER/alice"}}}
  bob: {name: Bob, logins: [bob], contact_methods: {push: {apprise: "json://RECEIVER/bob"}}}
  carol: {name: Carol, contact_methods: {push: {apprise: "json://RECEIVER/carol"}}}
  dave: {name: Dave, contact_methods: {push: {apprise: "json://RECEIVER/dave"}}}
"""


def paging_config(receiver: str = "127.0.0.1:9") -> str:
    """TEST_CONFIG with PAGING merged in, one level deep: keys are never repeated."""
    merged = yaml.safe_load(TEST_CONFIG)
    extra = yaml.safe_load(PAGING) | yaml.safe_load(
        REACHABLE.replace("RECEIVER", receiver)
    )
    for section, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(section), dict):
            merged[section] = {**merged[section], **value}
        else:
            merged[section] = value
    return yaml.safe_dump(merged, sort_keys=False)


@pytest.fixture
async def pages() -> AsyncIterator[str]:
    """A local HTTP receiver that accepts every page: host and port."""

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{who}", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def paging(tmp_path: Path, pages: str) -> AsyncIterator[Stack]:
    """`warroom up` in this process with the paging config."""
    config = parse_config(paging_config(pages), "paging.yaml")
    settings = Settings(config=config, data_dir=tmp_path / "data", http_port=0)
    running = Stack(settings)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
