"""`warroom up` assembled: bus, store, engine, gateway and channel worker."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
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
    runner: object = None
    bus_url: str = ""
    _lock: object = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    async def start(self) -> None:
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = lock_data_dir(s.data_dir)
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
        self.runner = await serve(self.gateway, s.http_host, s.http_port)
        write_bus_url(s.data_dir, self.bus_url)
        (s.data_dir / "http.url").write_text(f"http://{s.http_host}:{s.http_port}\n")

    async def _start_delivery(self, js) -> None:
        """The channel worker, the room follower, and Plivo's callbacks."""
        s = self.settings
        own_url = f"http://{s.http_host}:{s.http_port}"
        self.worker = Worker(
            self.nc, js, delivery.book_of(s.config),
            delivery.senders_of(s.config, own_url), retry=s.notify_retry,
        )  # fmt: skip
        await self.worker.start()
        self.room = RoomFollower(self.nc, js, self.worker.book)
        await self.room.start()
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
            ("room follower", self.room and self.room.stop),
            ("channel worker", self.worker and self.worker.stop),
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


async def _bounded(name: str, step, timeout: float = STOP_TIMEOUT) -> None:
    try:
        await asyncio.wait_for(step(), timeout)
    except TimeoutError:
        log.warning("%s did not stop in %.0fs, going on", name, timeout)
    except Exception as err:  # shutting down: report, and stop the rest anyway
        log.warning("%s failed to stop cleanly error=%s", name, err)
