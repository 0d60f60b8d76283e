"""`warroom demo`: everything on the embedded default, a feed of alerts, a console."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from warroom.commands.up import parse_http, start_stack
from warroom.common import DEFAULT_HTTP, Failure, add_bus_options, data_dir, login_name
from warroom.feed import Feed, Pager, run_feed
from warroom.stack import Settings

log = logging.getLogger(__name__)

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "demo.yaml"


def register(sub) -> None:
    parser = sub.add_parser(
        "demo", help="run the demo: up, an alert feed and a console"
    )
    parser.add_argument("--config", metavar="F", help="default examples/demo.yaml")
    add_bus_options(parser)
    parser.add_argument("--http", default=DEFAULT_HTTP, metavar="HOST:PORT")
    parser.add_argument("--as", dest="actor", default=None, metavar="HANDLE")
    parser.add_argument(
        "--no-console", action="store_true", help="no console: run the feed only"
    )
    parser.add_argument("--rounds", type=int, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(run=run, log_to_stderr=False)


def _log_to_file(path: Path) -> None:
    # The console owns the terminal: logs go to a file beside the data.
    path.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        filename=path,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("nats").setLevel(logging.CRITICAL)
    logging.getLogger("apprise").setLevel(logging.WARNING)  # it logs target URLs


async def run(args) -> int:
    from engine.config import ConfigError, load_config

    config_file = Path(args.config) if args.config else DEMO_CONFIG
    data = data_dir(args)
    _log_to_file(data / "warroom.log")
    try:
        config = load_config(config_file)
    except ConfigError as err:
        raise Failure(f"{config_file}: " + "; ".join(err.problems)) from err
    host, port = parse_http(args.http)
    settings = Settings(
        config=config, data_dir=data, nats_url=args.nats, http_host=host, http_port=port
    )
    pager = Pager(data / "pages.log")
    paging = await pager.start()
    try:
        stack = await start_stack(settings, config_file)
    except Failure:
        await pager.stop()
        raise
    tokens = {i.kind: i.token for i in reversed(list(config.integrations.values()))}
    feed = Feed(f"http://{host}:{port}", tokens)
    feeding = asyncio.create_task(run_feed(feed, args.rounds))
    try:
        if args.no_console:
            await feeding
        else:
            user = args.actor or config.handle_for_login(login_name()) or "alice"
            await _console(stack.bus_url, user)
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeding
        await stack.stop()
        if paging:
            await pager.stop()
    return 0


async def _console(bus_url: str, user: str) -> None:
    from tui.app import run_console

    await run_console(bus_url, user, wall=False)
