"""`warroom up` assembled: bus, store, engine, gateway and channel worker."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from bus import wire
from bus.connection import connect, ensure_streams
from bus.server import EmbeddedServer, write_bus_url
from channels.room import RoomFollower
from channels.worker import Retry, Worker
from engine.config import Config
from engine.gateway import Gateway, serve
from engine.service import Engine
from store.db import Store, redact_url, sqlite_url
from warroom import delivery

log = logging.getLogger(__name__)

STOP_TIMEOUT = 15.0  # seconds for each part; the nats-server gets 10 s of its own


class DataDirInUse(Exception):
    """Another `warroom up` runs on this data directory."""


def lock_data_dir(data_dir: Path):
    """Hold an exclusive lock on the data directory for as long as we run.

    A second `up` on the same directory would take over the JetStream store
    and the database under the first; the kernel drops the lock when the
    holder dies, even by SIGKILL, so a crash never leaves it stuck.
    """
    path = data_dir / "up.lock"
    handle = open(path, "a+")  # noqa: SIM115 - held until the process ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DataDirInUse(
            f"the data directory {data_dir} is in use by another warroom up "
            f"(pid {holder}); stop it first or pass another --data"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


@dataclass
class Settings:
    """Where each part of `up` lives."""

    config: Config
    data_dir: Path
    nats_url: str | None = None
    db_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    notify_retry: Retry = field(default_factory=Retry)


class DeliveryThread:
    """The channel worker and the room follower, on an event loop of their own.

    Delivery is Python-heavy (key-value round trips, apprise, plivo) and was
    sharing the engine's loop: in a storm of 2,000 pages, escalation timers
    waited seconds behind it. On a thread of its own the engine's loop is
    never queued behind delivery's callbacks.
    """

    def __init__(self, bus_url: str, config: Config, own_url: str, retry: Retry):
        self.bus_url, self.config, self.own_url, self.retry = (
            bus_url, config, own_url, retry
        )  # fmt: skip
        self.worker: Worker | None = None
        self.room: RoomFollower | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    async def start(self) -> None:
        self._thread = threading.Thread(
            target=asyncio.run,
            args=(self._run(),),
            name="warroom-delivery",
            daemon=True,
        )
        self._thread.start()
        await asyncio.to_thread(self._ready.wait, 30)
        if self._failure is not None:
            raise self._failure

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            nc = await connect(self.bus_url, name="warroom-delivery")
            js = nc.jetstream()
            self.worker = Worker(
                nc, js, delivery.book_of(self.config),
                delivery.senders_of(self.config, self.own_url), retry=self.retry,
            )  # fmt: skip
            await self.worker.start()
            self.room = RoomFollower(nc, js, self.worker.book)
            await self.room.start()
        except BaseException as err:  # reported to start() in the main thread
            self._failure = err
            self._ready.set()
            return
        self._ready.set()
        await self._stopping.wait()
        for part in (self.room, self.worker):
            await _bounded(type(part).__name__, part.stop)
        await _bounded("delivery bus connection", nc.close)

    async def stop(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, STOP_TIMEOUT)


@dataclass
class Stack:
    """The running parts, stopped in reverse order of starting."""

    settings: Settings
    server: EmbeddedServer | None = None
    nc: object = None
    store: Store | None = None
    engine: Engine | None = None
    gateway: Gateway | None = None
    worker: Worker | None = None
    room: RoomFollower | None = None
    delivery: DeliveryThread | None = None
    runner: object = None
    bus_url: str = ""
    _lock: object = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    async def start(self) -> None:
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = lock_data_dir(s.data_dir)
        sock = _reserve_port(s) if s.http_port == 0 else None
        if s.nats_url:
            self.bus_url = s.nats_url
        else:
            self.server = EmbeddedServer(s.data_dir)
            await self.server.start()
            self.bus_url = self.server.url
        self.nc = await connect(self.bus_url, name="warroom-up")
        js = self.nc.jetstream()
        await ensure_streams(js)
        db_url = s.db_url or sqlite_url(s.data_dir)
        self.store = await Store.open(db_url)
        log.info("store open db=%s", redact_url(db_url))
        self.engine = Engine(s.config, self.store, self.nc, js)
        await self.engine.start()

        async def publish(payload: bytes) -> None:
            await js.publish(wire.SUBJECT_ALERTS, payload, timeout=5.0)

        async def dead_letter(subject: str, payload: bytes) -> None:
            await js.publish(subject, payload, timeout=1.0)

        self.gateway = Gateway(
            s.config, publish, lambda: self.nc.is_connected, dead_letter
        )
        await self._start_delivery(js)
        self.runner = await serve(self.gateway, s.http_host, s.http_port, sock)
        write_bus_url(s.data_dir, self.bus_url)
        (s.data_dir / "http.url").write_text(f"http://{s.http_host}:{s.http_port}\n")

    async def _start_delivery(self, js) -> None:
        """The channel worker, the room follower, and Plivo's callbacks."""
        s = self.settings
        own_url = f"http://{s.http_host}:{s.http_port}"
        self.delivery = DeliveryThread(self.bus_url, s.config, own_url, s.notify_retry)
        await self.delivery.start()
        self.worker, self.room = self.delivery.worker, self.delivery.room
        callbacks = delivery.callbacks_of(s.config, own_url, self.nc)
        if callbacks is not None:
            self.gateway.mounts.append(callbacks.mount)

    async def stop(self) -> None:
        """Stop every part, each within a bound, naming any that hangs."""
        if self._stopped:
            return
        self._stopped = True
        steps = [
            ("gateway", self.runner and self.runner.cleanup),
            ("channel worker", self.delivery and self.delivery.stop),
            ("engine", self.engine and self.engine.stop),
            ("bus connection", self.nc and self.nc.close),
            ("store", self.store and self.store.close),
            ("nats-server", self.server and self.server.stop),
        ]
        for name, step in steps:
            if step:
                await _bounded(name, step)
        if self._lock is not None:
            self._lock.close()  # releases the data directory
            self._lock = None
        log.info("stopped")


def _reserve_port(settings: Settings) -> socket.socket:
    """Port 0: bind a port now and keep it, so nothing takes it before we serve.

    Choosing a free port and binding it later raced with other sockets of the
    machine; the chosen port is written back into the settings.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.http_host, 0))
    settings.http_port = sock.getsockname()[1]
    return sock


async def _bounded(name: str, step, timeout: float = STOP_TIMEOUT) -> None:
    try:
        await asyncio.wait_for(step(), timeout)
    except TimeoutError:
        log.warning("%s did not stop in %.0fs, going on", name, timeout)
    except Exception as err:  # shutting down: report, and stop the rest anyway
        log.warning("%s failed to stop cleanly error=%s", name, err)
