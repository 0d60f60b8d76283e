"""`warroom console`: the live queue and incident view, or the wall."""

from __future__ import annotations

import asyncio
import logging
import os

from bus import wire
from bus.client import CommandRefused, EngineClient
from bus.connection import BusError, connect
from tui.app import run_console
from warroom.common import Failure, add_bus_options, bus_url, login_name

CONNECT_TIMEOUT = 10.0  # seconds: a bus that does not answer by then is down


def register(sub) -> None:
    parser = sub.add_parser("console", help="the live queue, incidents and the wall")
    add_bus_options(parser)
    parser.add_argument(
        "--as",
        dest="user",
        default=None,
        metavar="HANDLE",
        help="who acts (default: your login name, mapped through the config)",
    )
    parser.add_argument(
        "--wall", action="store_true", help="read-only queue for a NOC screen"
    )
    # The console owns the terminal: logging goes to its Textual log instead.
    parser.set_defaults(run=run, log_to_stderr=False)


def user_for_login(login: str, users: list[wire.UserView]) -> str | None:
    """The handle of the user whose logins hold `login`, or whose handle it is."""
    for user in users:
        if login and (login in user.logins or login == user.handle):
            return user.handle
    return None


def choose_user(
    given: str | None, wall: bool, users: list[wire.UserView]
) -> str | None:
    """The console's user: `--as`, else the login name; the wall may have none."""
    handles = [user.handle for user in users]
    if given is not None:
        if given not in handles:
            raise Failure(
                f"--as {given}: no such user (configured: {', '.join(handles) or '-'})"
            )
        return given
    login = login_name()
    found = user_for_login(login, users)
    if found is None and not wall:
        raise Failure(
            f"who are you? pass --as HANDLE (login {login!r} is no configured user)"
        )
    return found


async def configured_users(url: str) -> list[wire.UserView]:
    """Ask the engine for its users; a bus that cannot answer is a Failure."""
    try:
        # One retry, then give up: the console's own connection retries later.
        nc = await asyncio.wait_for(
            connect(url, name="warroom-console", max_reconnect_attempts=1),
            CONNECT_TIMEOUT,
        )
    except TimeoutError as err:
        raise Failure(
            f"cannot reach the bus at {url} in {CONNECT_TIMEOUT:.0f}s"
        ) from err
    except BusError as err:
        raise Failure(f"{err} (is `warroom up` running?)") from err
    try:
        return await EngineClient(nc).users()
    except (BusError, CommandRefused) as err:
        raise Failure(f"{err} (is `warroom up` running?)") from err
    finally:
        await nc.close()


def quiet_logging() -> None:
    level = logging.getLevelName(os.environ.get("WARROOM_LOG", "info").upper())
    logging.getLogger().setLevel(level if isinstance(level, int) else logging.INFO)
    # nats-py logs every failed reconnect with a traceback; the banner says it.
    logging.getLogger("nats").setLevel(logging.CRITICAL)


async def run(args) -> int:
    quiet_logging()
    url = bus_url(args)
    user = choose_user(args.user, args.wall, await configured_users(url))
    await run_console(url, user, args.wall)
    return 0
