"""What the commands share: finding the config and the bus, output, failures."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from bus.client import EngineClient
from bus.connection import connect
from bus.server import read_bus_url
from engine.config import Config, ConfigError, load_config

DEFAULT_DATA = ".warroom"
DEFAULT_HTTP = "127.0.0.1:8080"


class Failure(Exception):
    """A command failed for a reason the user can act on; printed as one line."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def add_bus_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        default=None,
        metavar="DIR",
        help=f"data directory (default {DEFAULT_DATA})",
    )
    parser.add_argument(
        "--nats",
        default=None,
        metavar="URL",
        help="bus URL (default: WARROOM_NATS, else the one `up` wrote)",
    )


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        default=None,
        metavar="F",
        help="config file (default: WARROOM_CONFIG, else warroom.yaml)",
    )


def data_dir(args) -> Path:
    return Path(args.data or os.environ.get("WARROOM_DATA") or DEFAULT_DATA)


def config_path(args) -> Path:
    given = getattr(args, "config", None) or os.environ.get("WARROOM_CONFIG")
    if given:
        return Path(given)
    recorded = data_dir(args) / "config.path"
    if recorded.exists():
        return Path(recorded.read_text().strip())
    return Path("warroom.yaml")


def load(args) -> Config:
    """The config named by the arguments; a missing or broken one is a Failure."""
    path = config_path(args)
    if not path.exists():
        raise Failure(
            f"no config at {path}: pass --config F (the demo's is examples/demo.yaml)"
        )
    try:
        return load_config(path)
    except ConfigError as err:
        raise Failure(
            f"{path}: {len(err.problems)} problem(s): " + "; ".join(err.problems)
        ) from err


def bus_url(args) -> str:
    url = args.nats or os.environ.get("WARROOM_NATS") or read_bus_url(data_dir(args))
    if not url:
        raise Failure(
            "no bus: start `warroom up`, or pass --nats URL "
            f"(nothing in {data_dir(args)}/bus.url)"
        )
    return url


async def engine_client(args) -> EngineClient:
    """A client connected to the bus that the arguments name."""
    from bus.connection import BusError

    url = bus_url(args)
    try:
        nc = await connect(url, name="warroom-cli", max_reconnect_attempts=0)
    except BusError as err:
        raise Failure(f"{err} (is `warroom up` running?)") from err
    return EngineClient(nc)


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in a container: fall back to nothing
        return ""


def to_json(value: Any) -> str:
    return json.dumps(msgspec.to_builtins(value), indent=2, ensure_ascii=False)


def iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def age(at: datetime, now: datetime | None = None) -> str:
    """`42s`, `7m`, `3h`, `2d`: how long ago."""
    seconds = max(0, int(((now or datetime.now(UTC)) - at).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [
        max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))
    ]
    lines = [
        "  ".join(
            str(c).ljust(w) for c, w in zip(headers, widths, strict=True)
        ).rstrip()
    ]
    for row in rows:
        lines.append(
            "  ".join(
                str(c).ljust(w) for c, w in zip(row, widths, strict=True)
            ).rstrip()
        )
    return "\n".join(lines)


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text safe for a terminal: no escapes, no control or bidi-override chars."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(found: re.Match) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
