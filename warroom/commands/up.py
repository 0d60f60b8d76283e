"""`warroom up`: bus, engine and gateway in the foreground."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from bus.connection import BusError
from bus.server import ServerError
from store.db import StoreError
from warroom.common import (
    DEFAULT_HTTP,
    Failure,
    add_bus_options,
    add_config_option,
    config_path,
    data_dir,
    load,
)
from warroom.stack import DataDirInUse, Settings, Stack

log = logging.getLogger(__name__)


def register(sub) -> None:
    parser = sub.add_parser("up", help="run bus, engine and gateway in the foreground")
    add_config_option(parser)
    add_bus_options(parser)
    parser.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="database URL (default SQLite in the data directory)",
    )
    parser.add_argument(
        "--http",
        default=DEFAULT_HTTP,
        metavar="HOST:PORT",
        help=f"gateway address (default {DEFAULT_HTTP})",
    )
    parser.set_defaults(run=run)


def parse_http(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise Failure(f"--http: expected HOST:PORT, got {text!r}")
    return host, int(port)


def settings_of(args) -> Settings:
    config = load(args)
    host, port = parse_http(args.http)
    return Settings(
        config=config,
        data_dir=data_dir(args),
        nats_url=args.nats,
        db_url=args.db,
        http_host=host,
        http_port=port,
    )


async def start_stack(settings: Settings, config_file: Path) -> Stack:
    """Start everything, translating start-up failures into one line each."""
    stack = Stack(settings)
    try:
        await stack.start()
    except (BusError, ServerError, StoreError, DataDirInUse) as err:
        await stack.stop()
        raise Failure(str(err)) from err
    except OSError as err:
        await stack.stop()
        raise Failure(
            f"cannot listen on {settings.http_host}:{settings.http_port}: "
            f"{err.strerror or err}"
        ) from err
    (settings.data_dir / "config.path").write_text(str(config_file.resolve()) + "\n")
    return stack


async def _until_stopped(stack: Stack, stop: asyncio.Event) -> int:
    """Wait for SIGINT/SIGTERM; give up (status 1) if the embedded server dies."""
    waits = [asyncio.create_task(stop.wait())]
    if stack.server is not None:
        waits.append(asyncio.create_task(stack.server.exited()))
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if waits[0] in done:
        return 0
    log.error(
        "the embedded nats-server exited (status %s): stopping, restart warroom up",
        waits[1].result(),
    )
    return 1


async def run(args) -> int:
    settings = settings_of(args)
    stack = await start_stack(settings, config_path(args))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "warroom up bus=%s http=%s:%d data=%s",
        stack.bus_url,
        settings.http_host,
        settings.http_port,
        settings.data_dir,
    )
    status = 0
    try:
        status = await _until_stopped(stack, stop)
    finally:
        log.info("stopping")
        await stack.stop()
    return status
