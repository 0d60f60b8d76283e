"""Connecting to NATS quietly, and declaring the JetStream streams."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

log = logging.getLogger(__name__)

DAY = 24 * 3600.0
REJECTED_STREAM = "REJECTED"

STREAMS: tuple[StreamConfig, ...] = (
    StreamConfig(
        name="ALERTS",
        subjects=["warroom.alerts.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        max_age=7 * DAY,
        duplicate_window=120.0,
    ),
    StreamConfig(
        name="EVENTS",
        subjects=["warroom.events.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        max_age=30 * DAY,
        duplicate_window=120.0,
    ),
    StreamConfig(
        name="NOTIFY",
        subjects=["warroom.notify.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.WORK_QUEUE,
        max_age=7 * DAY,
    ),
    # Bodies the gateway refused, for `warroom rejected`. Capped so that a
    # sender misconfigured at 100 bodies/s cannot fill the disk: the oldest go.
    StreamConfig(
        name=REJECTED_STREAM,
        subjects=["warroom.rejected.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_msgs=10_000,
        max_bytes=64 * 1024 * 1024,
        max_age=30 * DAY,
    ),
)


class BusError(Exception):
    """The bus could not be reached or answered with an error."""


async def connect(
    url: str,
    *,
    name: str,
    on_state: Callable[[str], Awaitable[None] | None] | None = None,
    max_reconnect_attempts: int = -1,
    connect_timeout: float = 2.0,
) -> Client:
    """Connect to NATS, logging connection changes as one line each.

    nats-py prints a traceback for every failed reconnect by default; these
    handlers turn that into a single warning per state change.
    """

    async def report(state: str) -> None:
        if on_state is not None:
            result = on_state(state)
            if result is not None:
                await result

    nc = Client()

    async def disconnected() -> None:
        if nc.is_closed or nc.is_draining:
            return  # our own close, not an outage
        log.warning("bus disconnected url=%s", url)
        await report("disconnected")

    async def reconnected() -> None:
        log.info("bus reconnected url=%s", url)
        await report("connected")

    async def error(err: Exception) -> None:
        log.debug("bus error url=%s error=%s", url, err)

    try:
        await nc.connect(
            url,
            name=name,
            connect_timeout=connect_timeout,
            # nats-py treats 0 attempts as "retry forever" at the first
            # connect; a one-shot client must not reconnect at all.
            allow_reconnect=max_reconnect_attempts != 0,
            max_reconnect_attempts=max_reconnect_attempts or 1,
            reconnect_time_wait=0.5,
            disconnected_cb=disconnected,
            reconnected_cb=reconnected,
            error_cb=error,
        )
    except Exception as err:  # nats raises several unrelated types here
        raise BusError(
            f"cannot reach the bus at {url}: {err or type(err).__name__}"
        ) from err
    return nc


async def ensure_streams(js: JetStreamContext) -> None:
    """Create the streams, or bring an existing one's config up to date."""
    for config in STREAMS:
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)
            log.debug("stream created name=%s", config.name)
            continue
        await js.update_stream(config)
