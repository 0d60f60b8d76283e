"""A pull consumer that streams: messages are handed over as they arrive.

nats-py's `fetch` waits on every message with its own timer and task, which
cost a fifth of the engine's time in a storm. Here one pull request at a time
asks for a batch; a subscription callback collects what arrives, and the
caller takes whatever has been collected, so processing overlaps delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from nats.aio.client import Client
from nats.aio.msg import Msg

log = logging.getLogger(__name__)

EXPIRES = 1.0  # seconds a pull request waits on the server for messages
LINGER = 0.005  # seconds to let a batch fill while its messages stream in


class PullConsumer:
    """Streams one durable pull consumer's messages into `take()`."""

    def __init__(self, nc: Client, stream: str, consumer: str, batch: int) -> None:
        self.nc = nc
        self.batch = batch
        self._next = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._request = json.dumps(
            {"batch": batch, "expires": int(EXPIRES * 1e9)}
        ).encode()
        self._inbox = nc.new_inbox()
        self._messages: list[Msg] = []
        self._arrived = asyncio.Event()
        self._request_done = asyncio.Event()
        self._delivered = 0
        self._sub = None
        self._puller: asyncio.Task | None = None

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(self._inbox, cb=self._on_message)
        self._puller = asyncio.create_task(self._pull(), name="pull-consumer")

    async def stop(self) -> None:
        if self._puller is not None:
            self._puller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._puller
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception as err:  # the connection may be gone already
                log.debug("unsubscribe failed error=%s", err)

    async def take(self) -> list[Msg]:
        """Wait for messages; return up to one batch of them, in stream order.

        While a request is still delivering, linger up to LINGER for the batch
        to fill: a commit per 40 alerts instead of per 1,000 cost 3x in
        throughput, and a few milliseconds of latency buys it back.
        """
        while not self._messages:
            self._arrived.clear()
            await self._arrived.wait()
        deadline = asyncio.get_running_loop().time() + LINGER
        while len(self._messages) < self.batch and not self._request_done.is_set():
            self._arrived.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        taken = self._messages[: self.batch]
        del self._messages[: self.batch]
        return taken

    async def _on_message(self, msg: Msg) -> None:
        if msg.headers and "Status" in msg.headers:
            self._request_done.set()  # 408 expired, 409 and friends: ask again
            return
        self._messages.append(msg)
        self._arrived.set()
        self._delivered += 1
        if self._delivered >= self.batch:
            self._request_done.set()

    async def _pull(self) -> None:
        while True:
            self._request_done.clear()
            self._delivered = 0
            try:
                await self.nc.publish(self._next, self._request, reply=self._inbox)
            except Exception as err:  # disconnected: wait for the reconnect
                log.debug("pull request failed error=%s", err)
                await asyncio.sleep(0.5)
                continue
            try:
                await asyncio.wait_for(self._request_done.wait(), EXPIRES + 2)
            except TimeoutError:
                continue  # the request was lost with a connection: ask again
            while len(self._messages) >= 4 * self.batch:
                await asyncio.sleep(0.005)  # let the caller catch up first


def stream_sequence(msg: Msg) -> int:
    """The stream sequence from a JetStream message's reply subject.

    `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>...`,
    read without nats-py's full metadata parse.
    """
    tokens = msg.reply.split(".")
    if len(tokens) >= 12:  # the newer form carries a domain and account hash
        return int(tokens[7])
    return int(tokens[5])
