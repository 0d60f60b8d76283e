"""Phone calls and SMS through plivo, and Plivo's callbacks as bus commands.

A call speaks the incident and gathers one digit (1 acknowledges, 2
escalates, 3 resolves); an SMS carries short codes (`42a`, `42e`, `42r`).
Plivo calls the gateway back; every callback must carry a valid V3
signature made with the account's auth token, and a nonce not seen before,
or it is refused with a 403 and logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import plivo as plivo_sdk
from aiohttp import web
from plivo import exceptions as plivo_errors
from plivo import plivoxml
from plivo.utils.signature_v3 import validate_v3_signature

from bus import wire
from bus.client import CommandRefused
from channels.contacts import Book, Method, redact
from channels.page import DeliveryFailed, Page

log = logging.getLogger(__name__)

DEFAULT_API = "https://api.plivo.com"
TIMEOUT = 10.0  # seconds per request to the Plivo API
NONCE_MEMORY = 900.0  # seconds a nonce is remembered to refuse a replay
NONCE_LIMIT = 100_000  # nonces remembered at most: about 5 MB
CALLBACK_PREFIX = "/v1/plivo"
SHORT_CODE = re.compile(r"^\s*(\d+)\s*([aer])\s*$", re.IGNORECASE)
DIGIT_VERBS = {"1": "acknowledge", "2": "escalate", "3": "resolve"}
CODE_VERBS = {"a": "acknowledge", "e": "escalate", "r": "resolve"}

SendCommand = Callable[[wire.Command], Awaitable[wire.Reply]]


@dataclass(frozen=True)
class Account:
    """A Plivo account: credentials, the number pages come from, the API URL.

    `callback_url` is the gateway's public URL, which Plivo calls back.
    """

    auth_id: str
    auth_token: str = field(repr=False)
    number: str
    callback_url: str
    api_url: str = DEFAULT_API

    def __repr__(self) -> str:
        return f"Account(auth_id={self.auth_id!r}, auth_token=<secret>, ...)"


class _Client(plivo_sdk.RestClient):
    """The SDK's client with its API base pinned to `api_url`.

    The SDK resets `base_uri` to its module's constants before every request;
    pinning it per client points one client at a local fake Plivo without
    changing the module for everyone.
    """

    def __init__(self, account: Account) -> None:
        self._pinned = f"{account.api_url.rstrip('/')}/v1/Account"
        super().__init__(account.auth_id, account.auth_token, timeout=TIMEOUT)

    @property
    def base_uri(self) -> str:
        return self._pinned

    @base_uri.setter
    def base_uri(self, value: str) -> None:
        pass  # the SDK's own choice of host is ignored on purpose


class PlivoSender:
    """Delivers a page as an SMS (`kind` sms) or a phone call (`kind` voice)."""

    def __init__(self, account: Account, kind: str) -> None:
        self.account = account
        self.kind = kind

    async def send(self, method: Method, page: Page) -> str:
        """Send; return Plivo's request id, or raise `DeliveryFailed`."""
        return await asyncio.to_thread(self._send, method, page)

    def _send(self, method: Method, page: Page) -> str:
        # A client per send: the SDK keeps per-request state on the client.
        client = _Client(self.account)
        try:
            if self.kind == "sms":
                response = client.messages.create(
                    src=self.account.number, dst=method.address, text=page.sms
                )
            else:
                response = client.calls.create(
                    from_=self.account.number,
                    to_=method.address,
                    answer_url=answer_url(self.account.callback_url, page),
                    answer_method="POST",
                )
        except Exception as err:
            raise self._failure(err, method) from None
        finally:
            client.session.close()
            client.multipart_session.close()
        return str(getattr(response, "request_uuid", "") or "accepted")

    def _failure(self, err: Exception, method: Method) -> DeliveryFailed:
        secrets = [self.account.auth_token, method.address]
        reason = redact(f"{type(err).__name__}: {err}", secrets)
        permanent = (
            plivo_errors.ValidationError,
            plivo_errors.AuthenticationError,
            plivo_errors.ForbiddenError,
            plivo_errors.ResourceNotFoundError,
        )
        return DeliveryFailed(reason, retryable=not isinstance(err, permanent))


def answer_url(base: str, page: Page) -> str:
    """The answer URL of a call: it carries the words to speak, signed by Plivo."""
    return (
        f"{base.rstrip('/')}{CALLBACK_PREFIX}/answer"
        f"?incident={page.incident}&say={quote(page.spoken)}"
    )


class Nonces:
    """Nonces seen recently, so that a replayed callback is refused."""

    def __init__(self, memory: float = NONCE_MEMORY, limit: int = NONCE_LIMIT):
        self.memory = memory
        self.limit = limit
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, nonce: str, now: float) -> bool:
        """Remember `nonce`; False if it was seen within `memory` seconds."""
        while self._seen and (
            len(self._seen) >= self.limit
            or next(iter(self._seen.values())) < now - self.memory
        ):
            self._seen.popitem(last=False)
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        return True


class PlivoCallbacks:
    """The gateway's Plivo routes: answer, digits and inbound SMS."""

    def __init__(self, account: Account, book: Book, send_command: SendCommand) -> None:
        self.account = account
        self.book = book
        self.send_command = send_command
        self.nonces = Nonces()
        self.refused = 0

    def mount(self, app: web.Application) -> None:
        """Add the routes to the gateway's application."""
        app.router.add_post(f"{CALLBACK_PREFIX}/answer", self.answer)
        app.router.add_post(f"{CALLBACK_PREFIX}/digits", self.digits)
        app.router.add_post(f"{CALLBACK_PREFIX}/sms", self.sms)

    async def answer(self, request: web.Request) -> web.Response:
        """The callee picked up: speak the incident, gather one digit."""
        await self._verified(request)
        incident = request.query.get("incident", "0")
        say = request.query.get("say", f"incident {incident}")
        response = plivoxml.ResponseElement()
        if incident == "0":
            response.add_speak(say)
            return _xml(response)
        gather = plivoxml.GetDigitsElement(
            action=self._url(f"/digits?incident={incident}"),
            method="POST",
            num_digits=1,
            timeout=10,
            retries=2,
            valid_digits="123",
        )
        gather.add_speak(f"{say}. Press 1 to acknowledge, 2 to escalate, 3 to resolve.")
        response.add(gather)
        response.add_speak("No answer received. Goodbye.")
        return _xml(response)

    async def digits(self, request: web.Request) -> web.Response:
        """The callee pressed a digit: act as the phone's owner, say the result."""
        form = await self._verified(request)
        incident = _int(request.query.get("incident"))
        verb = DIGIT_VERBS.get(form.get("Digits", ""))
        number = form.get("To") if form.get("Direction") == "outbound" else None
        owner = self.book.owner_of_number(number or form.get("From", ""))
        response = plivoxml.ResponseElement()
        if incident is None or verb is None or owner is None:
            response.add_speak("Nothing was done. Goodbye.")
            return _xml(response)
        response.add_speak(await self._act(verb, incident, owner) + " Goodbye.")
        return _xml(response)

    async def sms(self, request: web.Request) -> web.Response:
        """An inbound SMS: a short code acts as the sender, anything else: help."""
        form = await self._verified(request)
        sender = form.get("From", "")
        owner = self.book.owner_of_number(sender)
        found = SHORT_CODE.match(form.get("Text", ""))
        if owner is None:
            log.warning("sms from an unknown number ignored")
            return _xml(plivoxml.ResponseElement())
        if found is None:
            text = "Reply with the incident number and a letter: 42a acknowledges, "
            text += "42e escalates, 42r resolves."
        else:
            verb = CODE_VERBS[found.group(2).lower()]
            text = await self._act(verb, int(found.group(1)), owner)
        response = plivoxml.ResponseElement()
        response.add_message(text, src=self.account.number, dst=sender)
        return _xml(response)

    async def _act(self, verb: str, incident: int, owner: str) -> str:
        command = _command(verb, incident, owner)
        try:
            await self.send_command(command)
        except CommandRefused as err:
            return f"Could not {verb} incident {incident}: {err}."
        except Exception as err:  # the bus is away: the person must know
            log.warning(
                "plivo command failed incident=%d user=%s error=%s",
                incident, owner, err,
            )  # fmt: skip
            return f"Could not {verb} incident {incident}: warroom is unreachable."
        log.info("plivo command incident=%d user=%s verb=%s", incident, owner, verb)
        done = {"acknowledge": "acknowledged", "escalate": "escalated"}
        return f"Incident {incident} {done.get(verb, 'resolved')}."

    async def _verified(self, request: web.Request) -> dict[str, str]:
        """The callback's form, once its V3 signature and nonce check out."""
        form = {k: str(v) for k, v in (await request.post()).items()}
        nonce = request.headers.get("X-Plivo-Signature-V3-Nonce", "")
        signature = request.headers.get("X-Plivo-Signature-V3", "")
        url = self._url(request.path_qs.removeprefix(CALLBACK_PREFIX))
        try:
            valid = bool(nonce and signature) and validate_v3_signature(
                "POST", url, nonce, self.account.auth_token, signature, dict(form)
            )
        except Exception:  # a malformed header is a forgery like any other
            valid = False
        if not valid:
            self._refuse(request, "bad signature")
        if not self.nonces.first_time(nonce, time.monotonic()):
            self._refuse(request, "replayed nonce")
        return form

    def _refuse(self, request: web.Request, why: str) -> None:
        self.refused += 1
        log.warning(
            "plivo callback refused path=%s reason=%s remote=%s",
            request.path, why, request.remote,
        )  # fmt: skip
        raise web.HTTPForbidden(reason=f"plivo callback refused: {why}")

    def _url(self, path: str) -> str:
        return f"{self.account.callback_url.rstrip('/')}{CALLBACK_PREFIX}{path}"


def _command(verb: str, incident: int, actor: str) -> wire.Command:
    if verb == "acknowledge":
        return wire.Ack(incident=incident, actor=actor)
    if verb == "escalate":
        return wire.Escalate(incident=incident, actor=actor)
    return wire.Resolve(incident=incident, actor=actor, reason="fixed")


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _xml(element) -> web.Response:
    return web.Response(
        text=element.to_string(pretty=False), content_type="application/xml"
    )
