"""`warroom up` on the real clock: an unacknowledged alert reaches level 2 on time."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import TEST_CONFIG
from tests.warroom.process import UpProcess, cli, cli_json

pytestmark = pytest.mark.slow

TWO_SECONDS = (
    TEST_CONFIG
    + """
services:
  db: {team: database, escalation_policy: two-seconds}
  checkout: {team: web}
  edge: {team: web}
escalation_policies:
  two-seconds:
    levels:
      - {targets: [user:alice], delay: 2s}
      - {targets: [user:bob], delay: 2s}
      - {targets: [team:database], delay: 1h}
"""
)


def at(event: dict) -> datetime:
    return datetime.fromisoformat(event["at"].replace("Z", "+00:00"))


def test_unacknowledged_alert_reaches_level_2_between_2_and_3_seconds(tmp_path: Path):
    config = tmp_path / "warroom.yaml"
    config.write_text(TWO_SECONDS)
    with UpProcess(config, tmp_path / "data") as up:
        sent = cli(
            up.data, "send", "disk full", "--service", "db", "--severity", "critical"
        )
        assert sent.returncode == 0, sent.stderr
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            incidents = cli_json(up.data, "incidents")
            timeline = (
                cli_json(up.data, "show", str(incidents[0]["id"]))["timeline"]
                if incidents
                else []
            )
            levels = [e for e in timeline if e["type"] == "escalated"]
            if len(levels) >= 2:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("level 2 never started")
    opened = next(e for e in timeline if e["type"] == "opened")
    second = (at(levels[1]) - at(opened)).total_seconds()
    assert [e["level"] for e in levels[:2]] == [1, 2]
    assert 2.0 <= second < 3.0, second
