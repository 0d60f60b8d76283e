"""A worker killed with SIGKILL mid-delivery: no lost job, no second call."""

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime

import pytest

from bus import wire
from channels.worker import Worker
from engine.config import load_config
from tests.channels.conftest import delivery_config
from tests.conftest import wait_for
from warroom import delivery

pytestmark = pytest.mark.slow
ACK_WAIT = 2.0  # seconds before the killed worker's step goes to the other


@pytest.fixture
async def worker_process(tmp_path, bus, receiver, fake_plivo):
    """`warroom worker` as its own process, calls only, against the test bus."""
    nc, _ = bus
    config = tmp_path / "warroom.yaml"
    config.write_text(
        delivery_config(receiver, fake_plivo, "{high: [{method: phone}]}")
    )
    log_file = (tmp_path / "worker.log").open("wb")  # a file: a pipe could fill
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "warroom", "worker", "--config", str(config),
        "--nats", nc.connected_url.geturl(), "--ack-wait", str(ACK_WAIT),
        env={**os.environ, "WARROOM_LOG": "debug"},
        stderr=log_file,
    )  # fmt: skip
    try:
        yield process, config
    finally:
        if process.returncode is None:
            process.kill()  # by its PID: the process this fixture started
        await process.wait()
        log_file.close()


async def test_a_killed_worker_rings_no_phone_twice(
    bus, worker_process, fake_plivo, receiver
):
    nc, js = bus
    process, config_file = worker_process
    results: list[wire.NotifyResult] = []

    async def collect(msg):
        results.append(wire.notify_result_decoder.decode(msg.data))

    await nc.subscribe(wire.SUBJECT_NOTIFY_RESULTS, cb=collect)
    fake_plivo.hold = asyncio.Event()  # Plivo takes the call and is slow to answer
    job = wire.NotifyJob(
        key="42-1-alice", incident=42, user="alice", team="database", level=1,
        repeat=0, reason="opened", why="on call", urgency="high",
        at=datetime.now(UTC), title="disk full on db-3", severity="critical",
    )  # fmt: skip
    await js.publish(wire.SUBJECT_NOTIFY_JOBS, wire.encode(job))
    await wait_for(lambda: fake_plivo.calls, timeout=20)  # the phone is ringing

    os.kill(process.pid, signal.SIGKILL)
    await process.wait()
    fake_plivo.hold.set()

    config = load_config(config_file)
    other = Worker(
        nc, js, delivery.book_of(config),
        delivery.senders_of(config, "http://127.0.0.1:9"), ack_wait=ACK_WAIT,
    )  # fmt: skip
    await other.start()
    try:
        [result] = await wait_for(lambda: results, timeout=ACK_WAIT * 5)
    finally:
        await other.stop()
    assert (result.key, result.result, result.final) == (
        "42-1-alice.phone", "failed", True,
    )  # fmt: skip
    assert result.reason.startswith("outcome unknown")  # reported, not lost
    assert len(fake_plivo.calls) == 1  # and the phone rang once
