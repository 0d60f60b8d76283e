"""The console app: one bus connection, one board, the screens that show it.

The console subscribes to the event stream first and takes the engine's
snapshot second, so nothing falls between the two; it takes a fresh snapshot
whenever the bus comes back after an outage. Events are queued as they arrive
and applied at most every `FLUSH_EVERY` seconds, so a storm of thousands of
events costs ten table refreshes a second, not thousands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from nats.aio.client import Client
from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from bus import wire
from bus.client import CommandRefused, EngineClient
from bus.connection import BusError, connect
from tui.board import Board
from tui.logs import logging_into
from tui.queue import QueueScreen
from tui.screen import ConsoleScreen
from tui.wall import WallScreen

log = logging.getLogger(__name__)

FLUSH_EVERY = 0.1  # seconds between applying queued events to the screens
FIRST_CONNECT_BUDGET = 120.0  # seconds to reach the bus at start, then give up
SNAPSHOT_ATTEMPTS = 8  # about 20 s of backoff while the engine is away
# After an outage: one attempt every half second or so, for about an hour.
# A wall must come back on its own; past that, the banner says to restart.
RECONNECT_ATTEMPTS = 7200


class WarroomApp(App[None]):
    """The warroom console: the live queue, incidents, or the wall.

    Args:
        bus_url: The NATS URL the engine serves on.
        user: The handle the console acts as; may be None only on the wall.
        wall: Read-only mode for a NOC screen: no keys to act, no dialogs.
    """

    BINDINGS = [Binding("q", "quit", "Quit", id="quit")]
    CSS_PATH = "warroom.tcss"
    TITLE = "warroom"

    bus_state: reactive[str] = reactive("connecting")
    bus_problem: reactive[str] = reactive("")

    class BusStateChanged(Message):
        """The bus connection went down (`disconnected`) or came back."""

        def __init__(self, state: str) -> None:
            super().__init__()
            self.state = state

    def __init__(self, bus_url: str, user: str | None, wall: bool = False) -> None:
        if not wall and not user:
            raise ValueError("a console that acts needs a user; only the wall has none")
        super().__init__()
        self.bus_url = bus_url
        self.user = user
        self.wall = wall
        self.board = Board()
        self._nc: Client | None = None
        self._client: EngineClient | None = None
        self._pending: list[wire.Event] = []
        self.expiring_silences: set[int] = set()  # ids a `silence_expiring` named

    def get_default_screen(self) -> Screen:
        return WallScreen() if self.wall else QueueScreen()

    def on_mount(self) -> None:
        self.sub_title = "wall" if self.wall else f"as {self.user}"
        self.set_interval(FLUSH_EVERY, self._flush)
        self.set_interval(1.0, self._tick)
        self._connect()

    async def on_unmount(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nc.close(), 2)

    @on(BusStateChanged)
    def _bus_state_changed(self, message: BusStateChanged) -> None:
        if message.state == "disconnected":
            self.bus_state = "disconnected"
        elif message.state == "connected":
            self.bus_state = "syncing"
            self._take_snapshot()
            for screen in self._console_screens():
                screen.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.report_failure(event.worker.error)

    # ------------------------------------------------------------ public

    def engine(self) -> EngineClient:
        """The engine client; a BusError while the bus is not connected."""
        if self._client is None or self._nc is None:
            raise BusError(f"not connected to the bus at {self.bus_url} yet")
        if not self._nc.is_connected:
            raise BusError("the bus is disconnected; try again when it is back")
        return self._client

    def acknowledge(self, incident_id: int) -> None:
        """Acknowledge an incident as the console's user."""
        self._send(
            wire.Ack(incident=incident_id, actor=self.actor()),
            f"incident {incident_id} acknowledged",
        )

    def resolve(self, incident_id: int, reason: str, note: str | None) -> None:
        """Resolve an incident with a close reason as the console's user."""
        self._send(
            wire.Resolve(
                incident=incident_id, actor=self.actor(), reason=reason, note=note
            ),
            f"incident {incident_id} resolved ({reason})",
        )

    def add_note(self, incident_id: int, text: str) -> None:
        """Add a note to an incident's timeline as the console's user."""
        self._send(
            wire.AddNote(incident=incident_id, actor=self.actor(), text=text),
            f"note added to incident {incident_id}",
        )

    def escalate(self, incident_id: int) -> None:
        """Start the incident's next escalation level now."""
        self._send(
            wire.Escalate(incident=incident_id, actor=self.actor()),
            f"incident {incident_id} escalated",
        )

    def reassign(self, incident_id: int, user: str) -> None:
        """Give the incident to `user`, who must acknowledge it."""
        self._send(
            wire.Reassign(incident=incident_id, actor=self.actor(), user=user),
            f"incident {incident_id} reassigned to {user}",
        )

    def snooze(self, incident_id: int, seconds: float, label: str) -> None:
        """Quiet an acknowledged incident for `seconds` (`label` says how long)."""
        self._send(
            wire.Snooze(incident=incident_id, actor=self.actor(), seconds=seconds),
            f"incident {incident_id} snoozed for {label}",
        )

    def actor(self) -> str:
        """The handle the console acts as; the wall has no actions that act."""
        assert self.user is not None
        return self.user

    def report_failure(self, error: BaseException) -> None:
        """Show a failed piece of background work to the person, as a toast."""
        match error:
            case CommandRefused():
                self.notify(
                    str(error), title="refused", severity="warning", markup=False
                )
            case BusError():
                self.notify(
                    str(error), title="bus", severity="error", timeout=8, markup=False
                )
            case _:
                log.error("console work failed", exc_info=error)
                self.notify(
                    f"{type(error).__name__}: {error}",
                    title="unexpected error",
                    severity="error",
                    timeout=8,
                    markup=False,
                )

    # ------------------------------------------------------------ bus work

    @work(group="bus", exclusive=True, exit_on_error=False)
    async def _connect(self) -> None:
        """Connect, follow the events, then take the first snapshot."""
        self._nc = await self._first_connection()
        self._client = EngineClient(self._nc)
        await self._client.follow_events(self._on_event)
        self.bus_state = "syncing"
        self._take_snapshot()

    async def _first_connection(self) -> Client:
        try:
            return await asyncio.wait_for(
                connect(
                    self.bus_url,
                    name="warroom-console",
                    on_state=self._on_bus_state,
                    max_reconnect_attempts=RECONNECT_ATTEMPTS,
                ),
                FIRST_CONNECT_BUDGET,
            )
        except (BusError, TimeoutError) as err:
            self.bus_problem = (
                f"nothing answered at {self.bus_url} for "
                f"{FIRST_CONNECT_BUDGET:.0f}s; restart the console"
            )
            self.bus_state = "failed"
            raise BusError(self.bus_problem) from err

    @work(group="snapshot", exclusive=True, exit_on_error=False)
    async def _take_snapshot(self) -> None:
        """Load the engine's snapshot, retrying while the engine is away."""
        for attempt in range(SNAPSHOT_ATTEMPTS):
            try:
                snapshot = await self.engine().snapshot()
                break
            except BusError as err:
                if attempt + 1 == SNAPSHOT_ATTEMPTS:
                    self.bus_problem = f"no snapshot from the engine: {err}"
                    self.bus_state = "failed"
                    raise BusError(self.bus_problem) from err
                log.info("snapshot failed, retrying attempt=%d error=%s", attempt, err)
                await asyncio.sleep(min(5.0, 0.25 * 2**attempt))
        self.board.merge(snapshot)
        self.bus_state = "live"
        self._show_board()

    @work(group="commands", exit_on_error=False)
    async def _send(self, command: wire.Command, done: str) -> None:
        """Send one command; a refusal reaches `report_failure` as a toast."""
        incident = await self.engine().command(command)
        if self.board.apply(incident):
            self._show_board()
        self.notify(done)

    def _on_bus_state(self, state: str) -> None:
        # Called from the NATS client's tasks: only post, touch no widget.
        self.post_message(self.BusStateChanged(state))

    async def _on_event(self, event: wire.Event) -> None:
        self._pending.append(event)

    # ------------------------------------------------------------ refreshes

    def _console_screens(self) -> list[ConsoleScreen]:
        return [s for s in self.screen_stack if isinstance(s, ConsoleScreen)]

    def _flush(self) -> None:
        if not self._pending:
            return
        events, self._pending = self._pending, []
        changed = self.board.apply_events(events)
        self._warn_of_expiring_silences(events)
        for screen in self._console_screens():
            screen.take_events(events)
        if changed:
            self._show_board()

    def _warn_of_expiring_silences(self, events: list[wire.Event]) -> None:
        # The engine records one `silence_expiring` per incident the silence
        # holds: one toast per silence is enough, and the wall shows none.
        if self.wall:
            return
        fresh = {
            int(event.data["silence"]): event
            for event in events
            if event.type == "silence_expiring" and "silence" in event.data
        }
        for silence, event in fresh.items():
            if silence in self.expiring_silences:
                continue
            self.expiring_silences.add(silence)
            self.notify(
                event.text, title=f"silence {silence}", severity="warning", markup=False
            )

    def _show_board(self) -> None:
        now = datetime.now(UTC)
        for screen in self._console_screens():
            screen.show_board(self.board, now)

    def _tick(self) -> None:
        if self._nc is not None and self._nc.is_closed and self.bus_state != "failed":
            self.bus_problem = "gave up reconnecting; restart the console"
            self.bus_state = "failed"
        now = datetime.now(UTC)
        for screen in self._console_screens():
            screen.tick(now)


async def run_console(bus_url: str, user: str | None, wall: bool = False) -> None:
    """Run a console in the running event loop until the person quits.

    Stdlib logging goes to the app's Textual log meanwhile, so an engine that
    shares the loop (as in `warroom demo`) does not write across the screen.
    """
    app = WarroomApp(bus_url, user, wall)
    with logging_into(app):
        await app.run_async()
