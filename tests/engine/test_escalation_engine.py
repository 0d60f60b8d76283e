"""Escalation in the running engine: stored timers, notify jobs, restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bus import wire
from engine.config import parse_config
from tests.conftest import TEST_CONFIG, wait_for
from warroom.stack import Settings, Stack

# The shared test config, with the db service escalating fast: alice (on
# call in `primary` while an override does not say otherwise), then bob.
ESCALATING = (
    TEST_CONFIG
    + """
services:
  db: {team: database, escalation_policy: fast}
  checkout: {team: web}
  edge: {team: web}
schedules:
  primary:
    timezone: Europe/London
    layers:
      - {members: [alice], shift: 1w, handoff: "09:00", start: 2024-01-01}
escalation_policies:
  fast:
    levels:
      - {targets: [schedule:primary], delay: 1s}
      - {targets: [user:bob], delay: 1h}
"""
)


def stack_at(data: Path) -> Stack:
    config = parse_config(ESCALATING, "escalating.yaml")
    return Stack(Settings(config=config, data_dir=data, http_port=0))


@pytest.fixture
async def running(tmp_path: Path):
    stack = stack_at(tmp_path / "data")
    await stack.start()
    try:
        yield stack
    finally:
        await stack.stop()


async def open_incident(stack: Stack, key: str = "disk") -> int:
    alert = wire.Alert(
        integration="scripts", source="generic", dedup_key=key,
        severity="critical", title="disk full", labels={"service": "db"},
    )  # fmt: skip
    await stack.nc.jetstream().publish(wire.SUBJECT_ALERTS, wire.encode(alert))
    found = await wait_for(lambda: stack.engine.state.incidents)
    return next(iter(found))


async def escalations(stack: Stack, incident: int) -> list[dict]:
    rows = await stack.store.timeline(incident)
    return [r for r in rows if r["type"] == "escalated"]


class JobListener:
    """Every notify job published, seen as a plain subscriber of the subject.

    The NOTIFY stream is a work queue that `up`'s channel worker consumes, so
    the test listens beside it rather than taking the jobs away.
    """

    def __init__(self) -> None:
        self.jobs: list[wire.NotifyJob] = []

    async def start(self, stack: Stack) -> JobListener:
        async def on_job(msg) -> None:
            self.jobs.append(wire.notify_job_decoder.decode(msg.data))

        await stack.nc.subscribe(wire.SUBJECT_NOTIFY_JOBS, cb=on_job)
        return self

    async def at_least(self, count: int) -> list[wire.NotifyJob]:
        await wait_for(lambda: len(self.jobs) >= count)
        return self.jobs


async def test_an_unacknowledged_incident_reaches_level_2_and_its_people(running):
    listener = await JobListener().start(running)
    incident = await open_incident(running)
    steps = await wait_for(
        lambda: _at_least(escalations(running, incident), 2), timeout=10
    )
    assert [s["data"]["level"] for s in steps] == [1, 2]
    jobs = await listener.at_least(2)
    # One job per person reached, each saying why that person.
    assert [(j.user, j.level, j.why) for j in jobs] == [
        ("alice", 1, "on call in schedule primary, layer 1"),
        ("bob", 2, "named in the policy"),
    ]
    # Accepted by the bus, so the outbox lets them go.
    await wait_for(lambda: _outbox_empty(running))


async def _outbox_empty(stack: Stack) -> bool:
    return await stack.store.notify_outbox() == []


async def _at_least(rows, n: int):
    found = await rows
    return found if len(found) >= n else None


async def test_acknowledging_pauses_the_climb(running):
    incident = await open_incident(running)
    await wait_for(lambda: _at_least(escalations(running, incident), 1))
    reply = await running.engine.execute(wire.Ack(incident=incident, actor="alice"))
    assert reply.ok
    view = running.engine.escalator.answer(wire.GetEscalation(incident=incident))
    # Paused before level 2: no due time, level 2 still next.
    assert (view.due_at, view.next_level) == (None, 2)
    assert running.engine.escalator.queue.soonest() is None


async def test_a_restart_between_two_levels_neither_loses_nor_repeats_a_step(
    tmp_path: Path,
):
    data = tmp_path / "data"
    first = stack_at(data)
    await first.start()
    try:
        incident = await open_incident(first)
        await wait_for(lambda: _at_least(escalations(first, incident), 1))
    finally:
        await first.stop()  # level 2 is due a second after level 1
    second = stack_at(data)
    await second.start()
    try:
        steps = await wait_for(lambda: _at_least(escalations(second, incident), 2))
    finally:
        await second.stop()
    assert [s["data"]["level"] for s in steps] == [1, 2]


async def test_an_override_is_on_call_and_is_the_one_notified(running):
    now = datetime.now(UTC)
    reply = await running.engine.execute(wire.OverrideAdd(
        schedule="primary", user="carol", start=now - timedelta(minutes=1),
        end=now + timedelta(hours=1), actor="dave",
    ))  # fmt: skip
    assert reply.ok and reply.override.id == 1
    oncall = running.engine.escalator.answer(wire.GetOnCall(schedule="primary"))
    current = oncall.schedules[0].current
    assert (current.user, current.source) == ("carol", "override 1")
    listener = await JobListener().start(running)
    incident = await open_incident(running)
    jobs = await listener.at_least(1)
    assert (jobs[0].incident, jobs[0].user, jobs[0].why) == (
        incident, "carol", "on call in schedule primary, override 1",
    )  # fmt: skip
