"""`warroom console`: who the console acts as, and one-line failures."""

from __future__ import annotations

import pytest

from bus import wire
from tests.conftest import free_port
from tests.tui.helpers import warroom
from warroom.commands import console as console_command
from warroom.common import Failure

USERS = [
    wire.UserView(handle="alice", name="Alice", logins=["alice", "al"]),
    wire.UserView(handle="carol", name="Carol"),
]


@pytest.mark.parametrize(
    ("given", "login", "wall", "expected"),
    [
        ("carol", "al", False, "carol"),  # --as wins over the login name
        (None, "al", False, "alice"),  # a login listed under a user's logins
        (None, "carol", False, "carol"),  # no logins listed: the handle itself
        (None, "root", True, None),  # the wall needs nobody to act as
        (None, "", True, None),  # no login name at all (a container)
    ],
)
def test_console_user_is_as_else_the_login_name(
    monkeypatch, given, login, wall, expected
):
    monkeypatch.setattr(console_command, "login_name", lambda: login)
    assert console_command.choose_user(given, wall, USERS) == expected


@pytest.mark.parametrize(
    ("given", "login", "wall", "message"),
    [
        # A console that acts must know who acts.
        (None, "root", False, "who are you? pass --as HANDLE (login 'root'"),
        # A handle the engine does not know would be refused on every command.
        ("mallory", "alice", False, "--as mallory: no such user"),
        ("mallory", "alice", True, "configured: alice, carol"),
    ],
)
def test_console_without_a_known_user_fails_with_a_reason(
    monkeypatch, given, login, wall, message
):
    monkeypatch.setattr(console_command, "login_name", lambda: login)
    with pytest.raises(Failure) as failure:
        console_command.choose_user(given, wall, USERS)
    assert message in str(failure.value)


async def test_console_without_a_bus_is_a_one_line_error():
    url = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    status, out, err = await warroom("console", "--as", "alice", "--nats", url)
    assert status == 1
    assert out == ""
    assert err.startswith(f"warroom: cannot reach the bus at {url}")
    assert len(err.strip().splitlines()) == 1, err


async def test_console_as_an_unknown_user_fails_before_the_screen(stack):
    status, _, err = await warroom(
        "console", "--as", "mallory", "--nats", stack.bus_url
    )
    assert status == 1
    assert err.strip() == (
        "warroom: --as mallory: no such user (configured: alice, bob, carol, dave)"
    )
