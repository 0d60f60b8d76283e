"""The guard every delivery test runs behind: nothing leaves 127.0.0.1."""

import asyncio
import socket

import aiohttp
import apprise
import pytest

from tests.channels.conftest import OutsideTraffic


def test_a_connection_beyond_loopback_is_refused():
    with socket.socket() as sock, pytest.raises(OutsideTraffic):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: would leave the machine


def test_a_name_lookup_is_refused():
    # Plivo's real host: resolving it alone would send a DNS query out.
    with pytest.raises(OutsideTraffic):
        socket.getaddrinfo("api.plivo.com", 443)


async def test_asyncio_clients_are_refused_too():
    async with aiohttp.ClientSession() as session:
        with pytest.raises(OutsideTraffic):
            await session.get("http://192.0.2.1/")


def test_apprise_to_a_real_service_fails_inside_the_guard():
    # apprise catches the refusal and reports a failed delivery instead.
    notifier = apprise.Apprise()
    assert notifier.add("json://192.0.2.1/hook")
    assert not notifier.notify(body="must not leave")


async def test_loopback_still_works(receiver):
    notifier = apprise.Apprise()
    notifier.add(receiver.url("ok"))
    # In a thread: the receiver answers on this test's event loop.
    assert await asyncio.to_thread(notifier.notify, body="stays here")
    assert receiver.at("ok")[0]["message"] == "stays here"
