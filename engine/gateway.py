"""The HTTP gateway: authenticate, bound, parse, publish, and only then answer.

It is stateless. A 202 means JetStream has stored the alerts; a 4xx names
what is wrong with the body (senders must not retry it); a 503 means the bus
is down and the sender should retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from bus import wire
from engine.config import Config
from engine.integrations import PARSERS, ParseContext, PayloadRejected

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # 1 MiB
MAX_MESSAGE = 900 * 1024  # below nats-server's default max_payload of 1 MB
PUBLISH_TIMEOUT = 5.0

Publish = Callable[[bytes], Awaitable[None]]


class BusUnavailable(Exception):
    """The bus did not store the alerts; the sender should retry."""


def _error(
    status: int, message: str, problems: list[str] | None = None
) -> web.Response:
    body: dict = {"error": message}
    if problems:
        body["problems"] = problems
    return web.json_response(body, status=status)


class Gateway:
    """The aiohttp application and its handlers."""

    def __init__(
        self, config: Config, publish: Publish, connected: Callable[[], bool]
    ) -> None:
        self.config = config
        self.publish = publish
        self.connected = connected
        self.accepted = 0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY + 1, middlewares=[self._errors])
        app.router.add_post("/v1/integrations/{token}", self.integration)
        app.router.add_get("/healthz", self.healthz)
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler) -> web.StreamResponse:
        # Every answer is JSON, including aiohttp's own 404 and 405.
        try:
            return await handler(request)
        except web.HTTPException as err:
            if err.status < 400:
                raise
            return _error(err.status, err.reason.lower())
        except Exception:
            log.exception("gateway handler failed path=%s", _redacted(request.path))
            return _error(500, "internal error")

    async def healthz(self, request: web.Request) -> web.Response:
        if not self.connected():
            return web.json_response({"status": "bus unavailable"}, status=503)
        return web.json_response({"status": "ok"})

    async def integration(self, request: web.Request) -> web.Response:
        """`POST /v1/integrations/{token}`: parse a body, publish its alerts."""
        found = self.config.integration_by_token(request.match_info["token"])
        if found is None:
            return _error(404, "unknown integration token")
        name, integration = found
        body = await _read_bounded(request)
        if body is None:
            return _error(413, f"body over {MAX_BODY} bytes")
        context = ParseContext(
            integration=name,
            kind=integration.kind,
            received_at=datetime.now(UTC),
            timezone=integration.timezone,
            service=integration.service,
        )
        try:
            alerts = PARSERS[integration.kind](body, context)
        except PayloadRejected as err:
            log.info("payload rejected integration=%s reason=%s", name, err)
            return _error(err.status, err.problems[0], err.problems)
        if alerts:
            try:
                await self._publish(alerts)
            except BusUnavailable as err:
                return _error(503, str(err))
        self.accepted += len(alerts)
        return web.json_response(
            {"accepted": len(alerts), "integration": name}, status=202
        )

    async def _publish(self, alerts: list[wire.Alert]) -> None:
        if not self.connected():
            raise BusUnavailable("the bus is unavailable; retry later")
        payloads = _payloads(alerts)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(self.publish(p) for p in payloads)), PUBLISH_TIMEOUT
            )
        except Exception as err:
            log.warning("publish failed error=%s", type(err).__name__)
            raise BusUnavailable(
                "the bus did not store the alerts; retry later"
            ) from err


def _payloads(alerts: list[wire.Alert]) -> list[bytes]:
    """One message per body, split in halves while over NATS's 1 MB payload limit."""
    payload = wire.encode(
        alerts[0] if len(alerts) == 1 else wire.AlertBatch(alerts=alerts)
    )
    if len(payload) <= MAX_MESSAGE or len(alerts) == 1:
        return [payload]
    half = len(alerts) // 2
    return _payloads(alerts[:half]) + _payloads(alerts[half:])


async def _read_bounded(request: web.Request) -> bytes | None:
    """The body, or None when it is over the limit (read no further than that)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def _redacted(path: str) -> str:
    if path.startswith("/v1/integrations/"):
        return "/v1/integrations/<secret>"
    return path


async def serve(gateway: Gateway, host: str, port: int) -> web.AppRunner:
    """Start listening; the caller cleans up the returned runner."""
    runner = web.AppRunner(gateway.app(), access_log=None)  # the path holds a token
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("gateway listening http=%s:%d", host, port)
    return runner
