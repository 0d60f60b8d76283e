"""`warroom up` and the command line as real processes, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def cli(data: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run `warroom ARGS --data DATA` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "warroom", *args, "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def cli_json(data: Path, *args: str):
    done = cli(data, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class UpProcess:
    """A `warroom up` child process on a free HTTP port."""

    def __init__(self, config: Path, data: Path, *extra: str) -> None:
        self.config = config
        self.data = data
        self.extra = extra
        self.port = 0  # up binds a port of its own at the first start, kept after
        self.process: subprocess.Popen | None = None
        self.log = data.parent / f"up-{data.name}-{id(self)}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> UpProcess:
        self.data.mkdir(parents=True, exist_ok=True)
        (self.data / "http.url").unlink(missing_ok=True)
        args = [
            sys.executable,
            "-m",
            "warroom",
            "up",
            "--config",
            str(self.config),
            "--data",
            str(self.data),
            "--http",
            f"127.0.0.1:{self.port}",
            *self.extra,
        ]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
        self.port = self._listening(timeout)
        self.wait_healthy(timeout)
        return self

    def _listening(self, timeout: float) -> int:
        """The port up reports in http.url once it serves (it picked it for 0)."""
        deadline = time.monotonic() + timeout
        path = self.data / "http.url"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"warroom up exited: {self.log.read_text()[-2000:]}"
                )
            if path.exists() and path.read_text().strip():
                return int(path.read_text().strip().rsplit(":", 1)[1])
            time.sleep(0.05)
        raise AssertionError(f"warroom up did not listen in {timeout}s")

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"warroom up exited: {self.log.read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(
                    f"{self.base}/healthz", timeout=1
                ) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(
            f"warroom up not healthy in {timeout}s: {self.log.read_text()[-2000:]}"
        )

    def kill(self) -> None:
        """SIGKILL: no clean shutdown at all."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        return self.process.wait(20)

    def __enter__(self) -> UpProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


def post(url: str, body: bytes, timeout: float = 10) -> tuple[int, dict]:
    """POST a body; return the status and the decoded JSON answer."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def env_without_bus() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "WARROOM_NATS"}
