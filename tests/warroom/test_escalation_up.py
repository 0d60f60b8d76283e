"""`warroom up` on the real clock: an unacknowledged alert reaches level 2 on time."""

from __future__ import annotations

import http.server
import threading
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
# Reachable people: one whose every method fails is escalated past at once.
users:
  alice: {name: Alice, logins: [alice], contact_methods: {push: {apprise: "json://RECEIVER/a"}}}
  bob: {name: Bob, logins: [bob], contact_methods: {push: {apprise: "json://RECEIVER/b"}}}
  carol: {name: Carol}
  dave: {name: Dave}
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


class _Accept(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    """A local HTTP server that takes every page: host and port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_unacknowledged_alert_reaches_level_2_between_2_and_3_seconds(
    tmp_path: Path, receiver: str
):
    config = tmp_path / "warroom.yaml"
    config.write_text(TWO_SECONDS.replace("RECEIVER", receiver))
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
