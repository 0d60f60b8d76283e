"""A stack whose config pages: schedules, an escalation policy, a quick warning."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

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


def paging_config() -> str:
    """TEST_CONFIG with PAGING merged in, one level deep: keys are never repeated."""
    merged = yaml.safe_load(TEST_CONFIG)
    for section, value in yaml.safe_load(PAGING).items():
        if isinstance(value, dict) and isinstance(merged.get(section), dict):
            merged[section] = {**merged[section], **value}
        else:
            merged[section] = value
    return yaml.safe_dump(merged, sort_keys=False)


@pytest.fixture
async def paging(tmp_path: Path) -> AsyncIterator[Stack]:
    """`warroom up` in this process with the paging config."""
    config = parse_config(paging_config(), "paging.yaml")
    settings = Settings(
        config=config, data_dir=tmp_path / "data", http_port=free_port()
    )
    running = Stack(settings)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
