"""`warroom worker`: a channel worker on its own, against a running bus.

`up` runs one in its process; more of them, anywhere the bus reaches, share
the NOTIFY work queue, so delivery scales out. Each also follows the events
for the teams' chat rooms, sharing one consumer, so a room is told once.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from bus.connection import connect, ensure_streams
from channels.room import RoomFollower
from channels.worker import ACK_WAIT, Worker
from warroom import delivery
from warroom.common import add_bus_options, add_config_option, bus_url, load

log = logging.getLogger(__name__)

ACK_WAIT_HELP = (
    "seconds before a killed worker's deliveries go to another worker "
    f"(default {ACK_WAIT:.0f}; shared by all workers, the last started sets it)"
)


def register(sub) -> None:
    parser = sub.add_parser("worker", help="run a channel worker against the bus")
    add_bus_options(parser)
    add_config_option(parser)
    parser.add_argument(
        "--callback-url",
        default="http://127.0.0.1:8080",
        metavar="URL",
        help="the gateway Plivo calls back, unless gateway.public_url is set",
    )
    parser.add_argument("--ack-wait", type=float, default=ACK_WAIT, help=ACK_WAIT_HELP)
    parser.set_defaults(run=run)


async def run(args) -> int:
    config = load(args)
    nc = await connect(bus_url(args), name="warroom-worker")
    js = nc.jetstream()
    await ensure_streams(js)
    worker = Worker(
        nc, js, delivery.book_of(config),
        delivery.senders_of(config, args.callback_url), ack_wait=args.ack_wait,
    )  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await worker.start()
    room = RoomFollower(nc, js, worker.book)
    await room.start()
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await room.stop()
        await worker.stop()
        await nc.close()
    return 0
