"""`warroom up` and the command line, as processes, the way other tools drive them."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import GENERIC_TOKEN
from tests.warroom.process import UpProcess, cli, cli_json, post

pytestmark = pytest.mark.slow

INCIDENT_FIELDS = {
    "id",
    "title",
    "severity",
    "state",
    "service",
    "team",
    "owner",
    "alert_count",
    "created_at",
    "acknowledged_at",
    "resolved_at",
    "close_reason",
}


def wait_until(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"condition not met in {timeout}s")


@pytest.fixture
def up(config_file: Path, tmp_path: Path):
    with UpProcess(config_file, tmp_path / "data") as process:
        yield process


def test_command_line_round_trip(up):
    data = up.data
    sent = cli(
        data,
        "send",
        "Replication lag above 300s",
        "--service",
        "db",
        "--severity",
        "critical",
        "--label",
        "host=db-7",
    )
    assert sent.returncode == 0, sent.stderr
    incidents = wait_until(lambda: cli_json(data, "incidents"))
    assert set(incidents[0]) >= INCIDENT_FIELDS
    incident = incidents[0]
    assert (incident["service"], incident["team"], incident["severity"]) == (
        "db",
        "database",
        "critical",
    )
    assert incident["created_at"].endswith("Z")

    assert cli(data, "ack", str(incident["id"]), "--as", "alice").returncode == 0
    again = cli(data, "ack", str(incident["id"]), "--as", "bob")
    # Refused with the reason, on one line, and a non-zero status.
    assert again.returncode == 1
    assert (
        again.stderr.strip()
        == f"warroom: incident {incident['id']} is already acknowledged by alice"
    )
    assert (
        cli(data, "note", str(incident["id"]), "--as", "bob", "failing over").returncode
        == 0
    )
    resolved = cli(
        data, "resolve", str(incident["id"]), "--as", "bob", "--reason", "fixed"
    )
    assert resolved.returncode == 0, resolved.stderr

    shown = cli_json(data, "show", str(incident["id"]))
    assert shown["state"] == "resolved" and shown["close_reason"] == "fixed"
    assert shown["alerts"][0]["labels"]["host"] == "db-7"
    assert set(shown["alerts"][0]) >= {
        "dedup_key",
        "source",
        "status",
        "severity",
        "title",
        "labels",
        "starts_at",
        "ends_at",
    }
    timeline = [(e["type"], e["actor"]) for e in shown["timeline"]]
    assert timeline == [
        ("opened", "cli"),
        ("routed", "engine"),
        ("alert_added", "cli"),
        ("acknowledged", "alice"),
        ("note", "bob"),
        ("resolved", "bob"),
    ]
    assert shown["timeline"][-1]["close_reason"] == "fixed"
    assert cli_json(data, "incidents", "--state", "resolved")[0]["id"] == incident["id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ack", "999", "--as", "alice"], "warroom: no incident 999"),
        # An empty handle is a mistake, not "whoever is logged in".
        (["ack", "1", "--as", ""], "warroom: --as: an empty handle names nobody"),
        (
            ["resolve", "1", "--as", "alice", "--reason", "auto"],
            "invalid choice: 'auto'",
        ),
        (
            [
                "send",
                "x",
                "--service",
                "db",
                "--severity",
                "critical",
                "--label",
                "novalue",
            ],
            "warroom: --label: expected K=V, got 'novalue'",
        ),
    ],
)
def test_bad_commands_fail_with_one_line(up, args, message):
    done = cli(up.data, *args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_client_without_a_bus_says_how_to_start_one(tmp_path):
    done = cli(tmp_path / "nothing", "incidents")
    assert done.returncode == 1
    assert done.stderr.startswith("warroom: no bus: start `warroom up`")


def test_sigterm_stops_everything_cleanly(up):
    server_pid = int((up.data / "nats-server.pid").read_text())
    assert up.stop(signal.SIGTERM) == 0
    # The embedded nats-server went with it.
    assert (
        not Path(f"/proc/{server_pid}").exists()
        or "Z" in Path(f"/proc/{server_pid}/stat").read_text().split()[2]
    )
    assert "Traceback" not in up.log.read_text()
    assert (up.data / "bus.url").read_text().startswith("nats://127.0.0.1:")


def _poster(
    url: str, prefix: str, count: int, accepted: list[str], stop: threading.Event
):
    for i in range(count):
        if stop.is_set():
            return
        key = f"{prefix}-{i}"
        body = json.dumps(
            {
                "source": "loadgen",
                "check": key,
                "state": "problem",
                "severity": "warning",
                "summary": f"check {key}",
                "ts": int(time.time()),
                "service": ["db", "checkout", "edge"][i % 3],
            }
        ).encode()
        try:
            status, _ = post(url, body, timeout=5)
        except OSError:
            continue  # died mid-request: no 2xx, so it may or may not exist
        if 200 <= status < 300:
            accepted.append(f"loadgen|{key}|")


def test_sigkill_while_posting_loses_nothing_and_duplicates_nothing(
    config_file, tmp_path
):
    with UpProcess(config_file, tmp_path / "data") as up:
        _kill_while_posting(up)


def _kill_while_posting(up: UpProcess) -> None:
    url = f"{up.base}/v1/integrations/{GENERIC_TOKEN}"
    accepted: list[str] = []
    stop = threading.Event()
    poster = threading.Thread(target=_poster, args=(url, "a", 3000, accepted, stop))
    poster.start()
    wait_until(lambda: len(accepted) >= 300, timeout=30)
    up.kill()  # SIGKILL mid-stream: no shutdown code runs
    stop.set()
    poster.join(30)
    before_restart = len(accepted)
    bus_url = (up.data / "bus.url").read_text()

    up.start()
    # The new server took the old one's port: clients following it reconnect.
    assert (up.data / "bus.url").read_text() == bus_url
    _poster(url, "b", 50, accepted, threading.Event())
    expected = set(accepted)
    assert len(expected) == len(accepted) == before_restart + 50

    def all_present():
        keys = _alert_keys(up.data)
        return keys if expected <= set(keys) else None

    keys = wait_until(all_present, timeout=30)
    # Every alert answered 2xx is in an incident, and no alert is in two.
    assert len(keys) == len(set(keys))


def _alert_keys(data: Path) -> list[str]:
    keys = []
    for incident in cli_json(data, "incidents", "--state", "all"):
        keys.extend(
            a["dedup_key"]
            for a in cli_json(data, "show", str(incident["id"]))["alerts"]
        )
    return keys


def test_up_keeps_its_store_on_postgresql(config_file, tmp_path, postgres_url):
    with UpProcess(config_file, tmp_path / "data", "--db", postgres_url) as up:
        sent = cli(
            up.data,
            "send",
            "Checkout 5xx",
            "--service",
            "checkout",
            "--severity",
            "error",
        )
        assert sent.returncode == 0, sent.stderr
        incident = wait_until(lambda: cli_json(up.data, "incidents"))[0]
        assert cli(up.data, "ack", str(incident["id"]), "--as", "carol").returncode == 0
        assert cli_json(up.data, "show", str(incident["id"]))["owner"] == "carol"
    assert not (up.data / "warroom.db").exists()  # nothing went to SQLite


def test_a_second_up_on_the_same_data_directory_refuses_and_harms_nothing(
    up, config_file
):
    second = UpProcess(config_file, up.data)
    with pytest.raises(AssertionError, match="exited"):
        second.start(timeout=20)
    assert second.process.returncode == 1
    log = second.log.read_text()
    assert f"is in use by another warroom up (pid {up.process.pid})" in log
    # The first one still serves, on the same bus.
    up.wait_healthy(5)
    assert (
        cli(
            up.data, "send", "still here", "--service", "db", "--severity", "info"
        ).returncode
        == 0
    )


def test_up_stops_with_an_error_when_its_nats_server_dies(up):
    server_pid = int((up.data / "nats-server.pid").read_text())
    os.kill(server_pid, signal.SIGKILL)
    assert up.process.wait(20) == 1
    assert "the embedded nats-server exited" in up.log.read_text()


@pytest.mark.parametrize("incident", ["0", "-3", "99999999999999999999999"])
def test_incident_numbers_out_of_range_name_no_incident(up, incident):
    for verb in (["show", incident], ["ack", incident, "--as", "alice"]):
        done = cli(up.data, *verb)
        assert done.returncode == 1
        assert done.stderr.strip() == f"warroom: no incident {int(incident)}"


def test_notes_cannot_drive_the_terminal(up):
    cli(up.data, "send", "disk full", "--service", "db", "--severity", "error")
    incident = wait_until(lambda: cli_json(up.data, "incidents"))[0]["id"]
    cli(up.data, "note", str(incident), "--as", "bob", "a\x1b[2Jb\u202ec")
    shown = cli(up.data, "show", str(incident)).stdout
    assert "\x1b" not in shown and "\u202e" not in shown
    assert "a\\x1b[2Jb\\u202ec" in shown


def test_a_restarted_up_keeps_its_bus_url_for_clients_that_follow_it(up):
    import socket

    url = (up.data / "bus.url").read_text()
    port = int(url.strip().rsplit(":", 1)[1])
    client = socket.create_connection(("127.0.0.1", port))  # a console, say
    client.recv(4096)  # the server's INFO line
    assert up.stop() == 0  # the server closes first: its side lingers in TIME_WAIT
    client.close()
    up.start()
    assert (up.data / "bus.url").read_text() == url
