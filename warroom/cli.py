"""The `warroom` command: a subcommand per module under `warroom.commands`."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import os
import pkgutil
import sys

from warroom import commands
from warroom.common import Failure

log = logging.getLogger("warroom")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warroom", description="On-call and incident response in the terminal."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"warroom.commands.{module.name}").register(sub)
    return parser


def setup_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=(level or os.environ.get("WARROOM_LOG", "info")).upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # nats-py logs every failed reconnect with a traceback; one line is enough.
    logging.getLogger("nats").setLevel(logging.CRITICAL)
    # apprise logs each target URL, token and all, at DEBUG.
    logging.getLogger("apprise").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "log_to_stderr", True):
        setup_logging()
    try:
        result = args.run(args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except Failure as err:
        print(f"warroom: {err}", file=sys.stderr)
        return err.status
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the boundary: a traceback never reaches the user
        log.debug("unexpected failure", exc_info=True)
        print(
            f"warroom: unexpected {type(err).__name__}: {err} "
            "(WARROOM_LOG=debug shows more)",
            file=sys.stderr,
        )
        return 70
