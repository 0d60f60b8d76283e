"""A client of the engine: commands, queries and the live event stream."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from bus import wire
from bus.connection import BusError

log = logging.getLogger(__name__)


class CommandRefused(Exception):
    """The engine refused a command; the message says why."""


class EngineClient:
    """Talks to the engine over request/reply and follows its events."""

    def __init__(self, nc: Client, timeout: float = 5.0) -> None:
        self.nc = nc
        self.timeout = timeout

    async def _request(self, subject: str, message: wire.Wire) -> bytes:
        try:
            reply = await self.nc.request(subject, wire.encode(message), self.timeout)
        except NoRespondersError as err:
            raise BusError("no engine is running on this bus") from err
        except NatsTimeout as err:
            raise BusError(f"the engine did not answer in {self.timeout:.0f}s") from err
        return reply.data

    async def command(self, command: wire.Command) -> wire.IncidentSummary:
        """Send a command; return the incident after it, or raise CommandRefused."""
        verb = type(command).__struct_config__.tag
        data = await self._request(f"{wire.SUBJECT_CMD}.{verb}", command)
        reply = wire.reply_decoder.decode(data)
        if not reply.ok or reply.incident is None:
            raise CommandRefused(reply.error or "refused")
        return reply.incident

    async def reply(self, command: wire.Command) -> wire.Reply:
        """Send a command that may name no incident; return the whole reply."""
        verb = type(command).__struct_config__.tag
        data = await self._request(f"{wire.SUBJECT_CMD}.{verb}", command)
        reply = wire.reply_decoder.decode(data)
        if not reply.ok:
            raise CommandRefused(reply.error or "refused")
        return reply

    async def query(self, query: wire.Query) -> wire.QueryReply:
        """Ask the engine; raise CommandRefused if it answers with a failure."""
        what = type(query).__struct_config__.tag
        data = await self._request(f"{wire.SUBJECT_QUERY}.{what}", query)
        reply = wire.query_reply_decoder.decode(data)
        if isinstance(reply, wire.QueryFailed):
            raise CommandRefused(reply.error)
        return reply

    async def incidents(self, state: str = "open") -> list[wire.IncidentSummary]:
        reply = await self.query(wire.ListIncidents(state=state))  # type: ignore[arg-type]
        assert isinstance(reply, wire.IncidentList)
        return reply.incidents

    async def incident(self, incident: int) -> wire.IncidentDetail:
        reply = await self.query(wire.GetIncident(incident=incident))
        assert isinstance(reply, wire.IncidentDetail)
        return reply

    async def snapshot(self) -> wire.Snapshot:
        reply = await self.query(wire.GetSnapshot())
        assert isinstance(reply, wire.Snapshot)
        return reply

    async def users(self) -> list[wire.UserView]:
        reply = await self.query(wire.ListUsers())
        assert isinstance(reply, wire.UserList)
        return reply.users

    async def follow_events(
        self, handler: Callable[[wire.Event], Awaitable[None]]
    ) -> object:
        """Call `handler` for every event the engine publishes from now on.

        Returns the subscription; an undecodable event is logged and skipped.
        """

        async def on_message(msg) -> None:
            try:
                event = wire.event_decoder.decode(msg.data)
            except Exception as err:  # a foreign message on our subject
                log.warning("undecodable event subject=%s error=%s", msg.subject, err)
                return
            await handler(event)

        return await self.nc.subscribe(f"{wire.SUBJECT_EVENTS}.>", cb=on_message)
