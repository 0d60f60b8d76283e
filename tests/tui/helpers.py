"""Driving consoles in tests: start one on a stack, read what its screens show."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from textual.pilot import Pilot
from textual.widgets import DataTable

from bus import wire
from tests.conftest import REAL, gateway_url, wait_for
from tui.app import WarroomApp
from tui.incident import IncidentScreen
from tui.widgets import IncidentTable

SIZE = (140, 40)
GROUP3 = REAL / "alertmanager-webhook-firing-group3.json"
SINGLE = REAL / "alertmanager-webhook-firing-single.json"
RESOLVED = REAL / "alertmanager-webhook-resolved.json"  # SINGLE's alert recovers


@contextlib.asynccontextmanager
async def console(
    bus_url: str, user: str | None, *, wall: bool = False
) -> AsyncIterator[Pilot]:
    """A console on the bus, returned once it shows the engine's snapshot."""
    app = WarroomApp(bus_url, user, wall)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(lambda: app.bus_state == "live", timeout=10)
        yield pilot


async def post(http, stack, body_file) -> None:
    """Post a real Alertmanager body to the gateway, as Alertmanager would."""
    async with http.post(gateway_url(stack), data=body_file.read_bytes()) as reply:
        assert reply.status == 202, await reply.text()


async def publish_alert(stack, title: str, service: str, severity: str) -> None:
    """Put one alert straight onto the bus, as `warroom send` does."""
    now = datetime.now(UTC)
    alert = wire.Alert(
        integration="cli",
        source="cli",
        dedup_key=f"{service}-{title}",
        severity=severity,
        title=title,
        labels={"service": service},
        starts_at=now,
        received_at=now,
    )
    await stack.nc.jetstream().publish(wire.SUBJECT_ALERTS, wire.encode(alert))


def queue_table(app: WarroomApp) -> IncidentTable:
    """The incident table of the app's first screen (queue or wall)."""
    return app.screen_stack[0].query_one(IncidentTable)


def table_rows(table: DataTable) -> list[dict[str, str]]:
    """Every row of a table as plain text, by column key, in screen order."""
    keys = [column.key.value for column in table.ordered_columns]
    return [
        dict(zip(keys, (str(cell) for cell in row), strict=True))
        for row in (table.get_row_at(index) for index in range(table.row_count))
    ]


def queue_row(app: WarroomApp, incident_id: int) -> dict[str, str] | None:
    """The queue's row for one incident, or None while it is not shown."""
    for row in table_rows(queue_table(app)):
        if row.get("id", "") == str(incident_id):
            return row
    return None


def timeline(app: WarroomApp) -> list[dict[str, str]]:
    """The timeline rows of the incident screen on top."""
    screen = app.screen
    assert isinstance(screen, IncidentScreen), f"not on an incident: {screen}"
    return table_rows(screen.query_one("#timeline", DataTable))


def toasts(app: WarroomApp) -> list[str]:
    """The text of every toast on the screen now."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


def banner(app: WarroomApp) -> str | None:
    """The bus banner's text when it shows, else None."""
    widget = app.screen.query_one("#banner")
    return str(widget.render()) if widget.has_class("-visible") else None


async def warroom(*args: str, timeout: float = 30) -> tuple[int, str, str]:
    """Run the `warroom` command line as a process; its status, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "warroom",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, out.decode(), err.decode()


class Relay:
    """A TCP relay on 127.0.0.1 to the stack's bus that a test can cut.

    Cutting it is a bus outage for the consoles behind it only: the engine
    keeps working, so they miss events and must catch up from a snapshot.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen, on the same port as before if it was started already."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and drop every relayed connection."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        await self._server.wait_closed()

    async def _relay(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer),
            self._pipe(up_reader, writer),
            return_exceptions=True,
        )

    async def _pipe(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            self._writers.discard(writer)


def shown(app: WarroomApp, selector: str) -> str:
    """The text a Static on the top screen shows."""
    return str(app.screen.query_one(selector).render())


def rows_of(app: WarroomApp, selector: str) -> list[dict[str, str]]:
    """The rows of a table on the top screen."""
    return table_rows(app.screen.query_one(selector, DataTable))


async def open_incident(client, count: int = 1) -> list[wire.IncidentSummary]:
    """Wait until the engine holds `count` open incidents; oldest first."""

    async def found():
        incidents = await client.incidents("open")
        return incidents if len(incidents) == count else None

    return sorted(await wait_for(found), key=lambda i: i.id)
