"""Fixtures of delivery: a local push receiver, a fake Plivo, a loopback guard.

Every test here runs behind `loopback_only`: a connection or a name lookup
for anything but 127.0.0.1 raises, so no test traffic leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import aiohttp
import pytest
from aiohttp import web

from bus import wire
from bus.connection import connect, ensure_streams
from bus.server import EmbeddedServer
from engine.config import Config, parse_config
from tests.conftest import TEST_CONFIG, free_port

AUTH_ID = "MAFAKE00000000000001"
AUTH_TOKEN = "fake-plivo-auth-token-0001"
FROM_NUMBER = "+15550100000"
ALICE_PHONE = "+15550100001"
BOB_PHONE = "+15550100002"


class OutsideTraffic(AssertionError):
    """A test tried to reach beyond 127.0.0.1."""


def _loopback(host) -> bool:
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]")).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Refuse every connection and name lookup that is not for loopback."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def guard(address) -> None:
        if isinstance(address, tuple) and not _loopback(address[0]):
            raise OutsideTraffic(f"test traffic to {address[0]} refused")

    def connect(self, address):
        guard(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        guard(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _loopback(host):
            raise OutsideTraffic(f"test name lookup of {host} refused")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# ---------------------------------------------------------------- receiver


@dataclass
class Receiver:
    """A local HTTP server that apprise's `json://` posts to."""

    port: int = 0
    received: list[tuple[str, dict]] = field(default_factory=list)
    failures: int = 0  # answer this many posts with a 500 first

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def at(self, path: str) -> list[dict]:
        return [body for p, body in self.received if p == f"/{path}"]

    async def handle(self, request: web.Request) -> web.Response:
        if self.failures > 0:
            self.failures -= 1
            return web.json_response({"error": "receiver down"}, status=500)
        self.received.append((request.path, await request.json()))
        return web.json_response({"ok": True})


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/{path:.*}", found.handle)
    runner, found.port = await _serve(app)
    try:
        yield found
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------- fake Plivo


def plivo_signature(token: str, url: str, params: dict[str, str], nonce: str) -> str:
    """Plivo's V3 signature, written from its documentation, not the SDK.

    HMAC-SHA256 over the URL with its query sorted (a `?` when there is a
    query or a body; a `.` between the two when both), then the sorted body
    parameters as `keyvalue` pairs, then `.` and the nonce; base64.
    """
    parsed = urlparse(url)
    base = f"{parsed.scheme}://{parsed.netloc}{parsed.path}"
    query = sorted(parse_qsl(parsed.query, keep_blank_values=True))
    if query or params:
        base += "?" + "&".join(f"{k}={v}" for k, v in query)
    if query and params:
        base += "."
    base += "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(token.encode(), f"{base}.{nonce}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


@dataclass
class FakePlivo:
    """Speaks Plivo's REST paths, records what it got, calls the gateway back."""

    port: int = 0
    calls: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    failures: int = 0  # answer this many requests with a 500 first
    hold: object = None  # an asyncio.Event: requests wait for it when set

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def call(self, request: web.Request) -> web.Response:
        return await self._record(request, self.calls, "call fired")

    async def message(self, request: web.Request) -> web.Response:
        return await self._record(request, self.messages, "message(s) queued")

    async def _record(self, request, into: list, message: str) -> web.Response:
        credentials = base64.b64encode(f"{AUTH_ID}:{AUTH_TOKEN}".encode()).decode()
        expected = f"Basic {credentials}"
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": "authentication failed"}, status=401)
        if request.match_info["account"] != AUTH_ID:
            return web.json_response({"error": "not found"}, status=404)
        body = await request.json()
        if self.failures > 0:
            self.failures -= 1
            return web.json_response({"error": "plivo is having a bad day"}, status=500)
        into.append(body)
        if self.hold is not None:
            await self.hold.wait()
        uuid = secrets.token_hex(8)
        return web.json_response(
            {"api_id": uuid, "message": message, "request_uuid": uuid,
             "message_uuid": [uuid]},
            status=201,
        )  # fmt: skip

    async def callback(
        self,
        url: str,
        params: dict[str, str],
        *,
        forged: bool = False,
        nonce: str | None = None,
    ) -> tuple[int, str]:
        """POST a callback like Plivo does, signed with the auth token (or not)."""
        nonce = nonce or secrets.token_hex(10)
        token = "not-the-auth-token" if forged else AUTH_TOKEN
        headers = {
            "X-Plivo-Signature-V3": plivo_signature(token, url, params, nonce),
            "X-Plivo-Signature-V3-Nonce": nonce,
        }
        async with aiohttp.ClientSession() as session:  # noqa: SIM117
            async with session.post(url, data=params, headers=headers) as response:
                return response.status, await response.text()


@pytest.fixture
async def fake_plivo() -> AsyncIterator[FakePlivo]:
    found = FakePlivo()
    app = web.Application()
    app.router.add_post("/v1/Account/{account}/Call/", found.call)
    app.router.add_post("/v1/Account/{account}/Message/", found.message)
    runner, found.port = await _serve(app)
    try:
        yield found
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------- config, bus


# Alice first, then Bob: long delays, so a test sees only the level it waits for.
ESCALATION = """
escalation_policies:
  db-page:
    levels:
      - {targets: [user:alice], delay: 10m}
      - {targets: [user:bob], delay: 10m}
"""


def delivery_config(receiver: Receiver, plivo: FakePlivo, rules: str = "") -> str:
    """The shared test config with contact methods, rules and a Plivo account."""
    alice_rules = rules or "{high: [{method: push}], low: [{method: push}]}"
    return (
        TEST_CONFIG.replace(
            "db: {team: database}", "db: {team: database, escalation_policy: db-page}"
        )
        .replace(
            "alice: {name: Alice, logins: [alice]}",
            "alice:\n"
            "    name: Alice\n"
            "    logins: [alice]\n"
            "    contact_methods:\n"
            f"      push: {{apprise: '{receiver.url('alice')}'}}\n"
            f"      sms: {{sms: '{ALICE_PHONE}'}}\n"
            f"      phone: {{voice: '{ALICE_PHONE}'}}\n"
            f"    notification_rules: {alice_rules}",
        )
        .replace(
            "bob: {name: Bob, logins: [bob]}",
            "bob:\n"
            "    name: Bob\n"
            "    logins: [bob]\n"
            "    contact_methods:\n"
            f"      sms: {{sms: '{BOB_PHONE}'}}",
        )
        + ESCALATION
        + "plivo:\n"
        f"  auth_id: {AUTH_ID}\n"
        f"  auth_token: {AUTH_TOKEN}\n"
        f"  number: '{FROM_NUMBER}'\n"
        f"  api_url: {plivo.url}\n"
    )


@pytest.fixture
def rules() -> str:
    """Alice's notification rules as YAML; a test parametrizes its own."""
    return ""


@pytest.fixture
def config(receiver, fake_plivo, rules) -> Config:
    """Overrides the shared `config`: the `stack` fixture delivers with it."""
    return parse_config(delivery_config(receiver, fake_plivo, rules), "test.yaml")


@pytest.fixture
async def bus(tmp_path: Path):
    """A real nats-server with the streams: (nc, js)."""
    server = EmbeddedServer(tmp_path / "nats")
    await server.start()
    nc = await connect(server.url, name="test")
    js = nc.jetstream()
    await ensure_streams(js)
    try:
        yield nc, js
    finally:
        await nc.close()
        await server.stop()


@pytest.fixture
async def results(bus):
    """Every notify result the workers publish, in order."""
    nc, _ = bus
    found: list[wire.NotifyResult] = []

    async def collect(msg):
        found.append(wire.notify_result_decoder.decode(msg.data))

    sub = await nc.subscribe(wire.SUBJECT_NOTIFY_RESULTS, cb=collect)
    yield found
    await sub.unsubscribe()
