"""The HTTP gateway: authenticate, bound, parse, publish, and only then answer.

It is stateless. A 202 means JetStream has stored the alerts; a 4xx names
what is wrong with the body (senders must not retry it); a 503 means the bus
is down and the sender should retry.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import msgspec
from aiohttp import web

from bus import wire
from engine.config import Config, Integration
from engine.integrations import PARSERS, ParseContext, PayloadRejected, pagerduty

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # 1 MiB
MAX_MESSAGE = 900 * 1024  # below nats-server's default max_payload of 1 MB
PUBLISH_TIMEOUT = 5.0
SUBJECT_REJECTED = "warroom.rejected"
DEAD_LETTER_BODY = 64 * 1024  # enough to see what is wrong; the stream is capped
DEAD_LETTER_TIMEOUT = 1.0  # a 4xx is not held up long by a slow bus

Publish = Callable[[bytes], Awaitable[None]]
DeadLetter = Callable[[str, bytes], Awaitable[None]]  # (subject, payload)
Answer = Callable[[str, list[wire.Alert], ParseContext], web.Response]


class RejectedBody(msgspec.Struct, frozen=True, kw_only=True):
    """A body the gateway refused, as the REJECTED stream keeps it.

    Tokens are replaced by `<secret>` in `body` and `problems`: a PagerDuty
    event carries its integration's token as `routing_key`.
    """

    integration: str
    kind: str
    received_at: datetime
    status: int
    problems: list[str]
    size: int
    body: str = ""
    truncated: bool = False


rejected_decoder = msgspec.json.Decoder(RejectedBody)


def rejected_subject(integration: str) -> str:
    """`warroom.rejected.<integration>`, with characters NATS reserves replaced."""
    return f"{SUBJECT_REJECTED}.{re.sub(r'[^A-Za-z0-9_-]', '_', integration)}"


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
        self,
        config: Config,
        publish: Publish,
        connected: Callable[[], bool],
        dead_letter: DeadLetter | None = None,
    ) -> None:
        self.config = config
        self.publish = publish
        self.connected = connected
        self.dead_letter = dead_letter
        self.accepted = 0
        self.rejected = 0
        # Routes of delivery methods (Plivo's callbacks), added by the
        # composition root: the gateway serves them without knowing them.
        self.mounts: list[Callable[[web.Application], None]] = []
        self._tokens = sorted(
            (i.token for i in config.integrations.values()), key=len, reverse=True
        )

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY + 1, middlewares=[self._errors])
        app.router.add_post("/v1/integrations/{token}", self.integration)
        app.router.add_post("/v2/enqueue", self.enqueue)
        app.router.add_get("/healthz", self.healthz)
        for mount in self.mounts:
            mount(app)
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
        body = await _read_bounded(request)
        return await self._handle(found, body, _accepted)

    async def enqueue(self, request: web.Request) -> web.Response:
        """`POST /v2/enqueue`: a PagerDuty event; its `routing_key` is the token."""
        body = await _read_bounded(request)
        if body is None:
            return _error(413, f"body over {MAX_BODY} bytes")
        try:
            key = pagerduty.routing_key(body)
        except PayloadRejected as err:
            return _error(err.status, err.problems[0], err.problems)
        found = self.config.integration_by_token(key)
        if found is None or found[1].kind != "pagerduty":
            return _error(404, "unknown routing_key")
        return await self._handle(found, body, _enqueued)

    async def _handle(
        self,
        found: tuple[str, Integration],
        body: bytes | None,
        answer: Answer,
    ) -> web.Response:
        name, integration = found
        try:
            alerts, context = await self._ingest(name, integration, body)
        except PayloadRejected as err:
            return _error(err.status, err.problems[0], err.problems)
        except BusUnavailable as err:
            return _error(503, str(err))
        return answer(name, alerts, context)

    async def _ingest(
        self, name: str, integration: Integration, body: bytes | None
    ) -> tuple[list[wire.Alert], ParseContext]:
        """Parse and publish; a rejection is dead-lettered, then raised."""
        context = ParseContext(
            integration=name,
            kind=integration.kind,
            received_at=datetime.now(UTC),
            timezone=integration.timezone,
            service=integration.service,
        )
        try:
            if body is None:
                raise PayloadRejected([f"body over {MAX_BODY} bytes"], 413)
            alerts = PARSERS[integration.kind](body, context)
        except PayloadRejected as err:
            redacted = PayloadRejected(
                [self._redact_text(p) for p in err.problems], err.status
            )
            await self._reject(context, redacted, body)
            raise redacted from err
        if alerts:
            await self._publish(alerts)
        elif context.notes:
            log.info(  # %r: a sender's text never forges a log line
                "payload ignored integration=%s reason=%r",
                name,
                "; ".join(context.notes),
            )
        self.accepted += len(alerts)
        return alerts, context

    async def _reject(
        self, context: ParseContext, err: PayloadRejected, body: bytes | None
    ) -> None:
        self.rejected += 1
        log.info(
            "payload rejected integration=%s reason=%r", context.integration, str(err)
        )
        record = RejectedBody(
            integration=context.integration,
            kind=context.kind,
            received_at=context.received_at,
            status=err.status,
            problems=err.problems,
            size=MAX_BODY + 1 if body is None else len(body),
            body=self._redact_text(_excerpt(body or b"")),
            truncated=body is None or len(body) > DEAD_LETTER_BODY,
        )
        await self._dead_letter(context.integration, msgspec.json.encode(record))

    async def _dead_letter(self, name: str, payload: bytes) -> None:
        """Best effort: whatever happens here, the sender gets the same 4xx."""
        if self.dead_letter is None or not self.connected():
            return
        try:
            await asyncio.wait_for(
                self.dead_letter(rejected_subject(name), payload), DEAD_LETTER_TIMEOUT
            )
        except Exception as err:
            log.warning(
                "dead-letter publish failed integration=%s error=%s",
                name,
                type(err).__name__,
            )

    def _redact_text(self, text: str) -> str:
        for token in self._tokens:
            text = text.replace(token, "<secret>")
        return text

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


def _accepted(
    name: str, alerts: list[wire.Alert], context: ParseContext
) -> web.Response:
    answer: dict = {"accepted": len(alerts), "integration": name}
    if not alerts and context.notes:
        answer["ignored"] = "; ".join(context.notes)
    return web.json_response(answer, status=202)


def _enqueued(
    name: str, alerts: list[wire.Alert], context: ParseContext
) -> web.Response:
    """PagerDuty's own answer: senders read `dedup_key` to resolve later."""
    answer: dict = {"status": "success", "message": "Event processed"}
    if alerts:
        answer["dedup_key"] = alerts[0].dedup_key
    elif context.notes:
        answer["message"] = f"Event ignored: {'; '.join(context.notes)}"
    return web.json_response(answer, status=202)


def _excerpt(body: bytes) -> str:
    return body[:DEAD_LETTER_BODY].decode("utf-8", "replace")


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


async def serve(
    gateway: Gateway, host: str, port: int, sock: socket.socket | None = None
) -> web.AppRunner:
    """Start listening (on `sock` when given); the caller cleans up the runner."""
    runner = web.AppRunner(gateway.app(), access_log=None)  # the path holds a token
    await runner.setup()
    site = web.SockSite(runner, sock) if sock else web.TCPSite(runner, host, port)
    await site.start()
    log.info("gateway listening http=%s:%d", host, port)
    return runner
