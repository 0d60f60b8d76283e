"""The engine's side of delivery: notify results from the NOTIFY queue, recorded.

Channel workers publish a `NotifyResult` per attempt; the engine, the single
writer, turns each into a `notified` event, a batch per commit, and
acknowledges the batch after the commit. A crash between the two records
the batch twice (JetStream redelivers it): a repeated line on the timeline,
never a lost one.

When every contact method of a person has failed for good for one level
(throttled and bundled pages are not failures), the escalation goes on to
the next level at once, with the reason `delivery_failed`. The failures
seen so far are kept in memory: after a restart a level waits its delay,
as it would without this shortcut.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
from nats.js.api import AckPolicy, ConsumerConfig

from bus import wire
from bus.consumer import PullConsumer
from engine.core import delivery
from engine.core.escalation import DeliveryFailure, Steps
from engine.core.model import Effects

if TYPE_CHECKING:
    from engine.service import Engine

log = logging.getLogger(__name__)

STREAM = "NOTIFY"
CONSUMER = "engine-notified"
BATCH = 200
REMEMBERED_JOBS = 10_000  # notify jobs with failures kept, oldest forgotten


class Deliveries:
    """Follows the results subject and records every attempt."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.recorded = 0
        self._failed: dict[str, set[str]] = {}  # job key -> methods given up

    async def run(self) -> None:
        """Consume results until cancelled, starting over after a failure."""
        last_error = None
        while True:
            try:
                consumer = await self._subscribe()
            except Exception as err:  # the bus is away: wait for the reconnect
                level = logging.DEBUG if str(err) == last_error else logging.WARNING
                log.log(level, "results consumer not ready error=%s", err)
                last_error = str(err)
                await asyncio.sleep(0.5)
                continue
            try:
                while True:
                    await self.apply(await consumer.take())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notify results failed, will retry")
                await asyncio.sleep(1.0)
            finally:
                await consumer.stop()

    async def _subscribe(self) -> PullConsumer:
        await self.engine.js.add_consumer(
            STREAM,
            ConsumerConfig(
                durable_name=CONSUMER,
                ack_policy=AckPolicy.EXPLICIT,  # a work queue allows no other
                ack_wait=60,
                max_ack_pending=10_000,
                filter_subject=wire.SUBJECT_NOTIFY_RESULTS,
            ),
        )
        consumer = PullConsumer(self.engine.nc, STREAM, CONSUMER, BATCH)
        await consumer.start()
        return consumer

    async def apply(self, msgs) -> None:
        """Record a batch of results in one commit, then acknowledge it."""
        if not msgs:
            return
        results = []
        for msg in msgs:
            try:
                results.append(wire.notify_result_decoder.decode(msg.data))
            except msgspec.DecodeError as err:
                log.warning("undecodable notify result dropped error=%s", err)
        engine = self.engine
        async with engine.lock:
            effects, held = Effects(), []
            steps = Steps(effects=effects)
            for result in results:
                incident = await engine._incident_for(result.incident)
                if incident is None:
                    log.debug("notify result for no incident=%d", result.incident)
                    continue
                held.append(incident)
                now = utcnow()
                delivery.notified(engine.state, incident, result, now, effects)
                if self._unreachable(result):
                    failure = DeliveryFailure(result.user, result.level, result.repeat)
                    engine.escalator.delivery_failed(incident, failure, now, steps)
            if effects.events:
                await engine._commit(effects, steps=steps)
            for incident in held:
                engine._evict_if_resolved(incident)
        self.recorded += len(effects.events)
        try:
            await asyncio.gather(*(msg.ack() for msg in msgs))
        except Exception as err:  # redelivered later: recorded twice, not lost
            log.warning("notify results not acknowledged error=%s", err)

    def _unreachable(self, result: wire.NotifyResult) -> bool:
        """Whether this result is the last of a person's methods to fail."""
        if result.result != "failed" or not result.final or not result.job:
            return False
        if result.user is None or result.level < 1:
            return False  # a room, a reassignment, an exhausted policy
        failed = self._failed.setdefault(result.job, set())
        failed.add(result.method)
        if len(failed) < max(result.steps, 1):
            return False
        del self._failed[result.job]
        while len(self._failed) > REMEMBERED_JOBS:
            self._failed.pop(next(iter(self._failed)))
        return True


def utcnow() -> datetime:
    return datetime.now(UTC)
