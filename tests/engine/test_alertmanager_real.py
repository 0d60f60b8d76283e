"""Real Alertmanager bodies, replayed and sent by Debian's prometheus-alertmanager."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from bus.client import EngineClient
from tests.conftest import REAL, free_port, gateway_url, wait_for

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


async def post(http, stack, name: str) -> None:
    body = (REAL / name).read_bytes()
    async with http.post(gateway_url(stack), data=body) as response:
        assert response.status == 202, await response.text()


async def test_replayed_bodies_resolve_the_group_with_close_reason_auto(stack, http):
    client = EngineClient(stack.nc)
    await post(http, stack, "alertmanager-webhook-firing-group3.json")
    await post(http, stack, "alertmanager-webhook-firing-single.json")
    incidents = await wait_for(
        lambda: _when(client.incidents("open"), lambda found: len(found) == 2)
    )
    by_title = {i.title: i for i in incidents}
    # One incident per Alertmanager group; the group of three is critical
    # because its highest alert is, and each is routed by its service label.
    disk = by_title["DiskFull (service=db)"]
    assert (disk.alert_count, disk.severity, disk.service) == (3, "critical", "db")
    latency = next(i for i in incidents if i is not disk)
    assert (latency.alert_count, latency.service) == (1, "checkout")

    await post(http, stack, "alertmanager-webhook-resolved.json")
    detail = await wait_for(
        lambda: _when(
            client.incident(latency.id), lambda d: d.incident.state == "resolved"
        )
    )
    assert detail.incident.close_reason == "auto"
    assert (
        detail.timeline[-1].type == "resolved" and detail.timeline[-1].actor == "auto"
    )
    assert detail.alerts[0].ends_at == datetime(2026, 12, 4, 13, 31, 40, tzinfo=UTC)
    # The other group is untouched by this one's recovery.
    assert (await client.incident(disk.id)).incident.state == "triggered"


async def _when(awaitable, condition):
    value = await awaitable
    return value if condition(value) else None


@pytest.fixture
def alertmanager(tmp_path, stack):
    if ALERTMANAGER is None:
        pytest.skip("prometheus-alertmanager is not installed (apt-get install it)")
    port = free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        json.dumps(
            {
                "route": {
                    "receiver": "warroom",
                    "group_by": ["alertname", "service"],
                    "group_wait": "100ms",
                    "group_interval": "1s",
                    "repeat_interval": "1h",
                },
                "receivers": [
                    {
                        "name": "warroom",
                        "webhook_configs": [
                            {"url": gateway_url(stack), "send_resolved": True}
                        ],
                    }
                ],
            }
        )
    )
    with open(tmp_path / "alertmanager.log", "wb") as log:
        process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=log,
        )
        yield f"http://127.0.0.1:{port}"
        process.terminate()
        process.wait(10)


def am_alert(name: str, instance: str, severity: str, ends_at=None) -> dict:
    alert = {
        "labels": {
            "alertname": name,
            "instance": instance,
            "service": "db",
            "severity": severity,
        },
        "annotations": {"summary": f"{name} on {instance}"},
        "startsAt": "2026-12-04T10:00:00Z",
    }
    if ends_at:
        alert["endsAt"] = ends_at
    return alert


async def fire(http, base: str, alerts: list[dict]) -> None:
    async def attempt():
        try:
            async with http.post(f"{base}/api/v2/alerts", json=alerts) as response:
                return response.status == 200
        except OSError:
            return False  # not listening yet

    await wait_for(attempt, timeout=20, interval=0.1)


async def test_real_alertmanager_delivers_groups_and_their_recovery(
    stack, http, alertmanager
):
    client = EngineClient(stack.nc)
    disk = [
        am_alert("DiskFull", f"db-{i}:9100", s)
        for i, s in enumerate(["warning", "warning", "critical"])
    ]
    await fire(
        http, alertmanager, [*disk, am_alert("ReplicaLag", "db-9:9187", "error")]
    )
    incidents = await wait_for(
        lambda: _when(
            client.incidents("open"),
            lambda found: len(found) == 2 and sum(i.alert_count for i in found) == 4,
        ),
        timeout=30,
    )
    group = next(i for i in incidents if i.alert_count == 3)
    assert (group.severity, group.service, group.team) == ("critical", "db", "database")

    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    await fire(http, alertmanager, [{**a, "endsAt": past} for a in disk[:2]])
    await wait_for(
        lambda: _when(
            client.incident(group.id),
            lambda d: sum(a.status == "resolved" for a in d.alerts) == 2,
        ),
        timeout=30,
    )
    # Two of three recovered: the group's incident still fires.
    assert (await client.incident(group.id)).incident.state == "triggered"

    await fire(http, alertmanager, [{**disk[2], "endsAt": past}])
    detail = await wait_for(
        lambda: _when(
            client.incident(group.id), lambda d: d.incident.state == "resolved"
        ),
        timeout=30,
    )
    assert detail.incident.close_reason == "auto"
    other = next(i for i in incidents if i.id != group.id)
    assert (await client.incident(other.id)).incident.state == "triggered"
