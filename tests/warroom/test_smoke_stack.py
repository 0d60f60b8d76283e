"""The in-process stack accepts an Alertmanager body and opens an incident."""

from bus import wire
from bus.client import EngineClient
from tests.conftest import REAL, gateway_url, wait_for


async def test_alertmanager_group_becomes_one_incident(stack, http):
    body = (REAL / "alertmanager-webhook-firing-group3.json").read_bytes()
    async with http.post(gateway_url(stack), data=body) as response:
        assert response.status == 202
        assert (await response.json())["accepted"] == 3
    client = EngineClient(stack.nc)
    incidents = await wait_for(lambda: client.incidents("open"))
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.alert_count == 3
    assert incident.severity == "critical"  # the highest of warning, warning, critical
    assert incident.service == "db"
    summary = await client.command(wire.Ack(incident=incident.id, actor="alice"))
    assert summary.state == "acknowledged"
