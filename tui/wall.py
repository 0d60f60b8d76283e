"""The wall: a read-only queue for a NOC screen, readable across a room.

Big counts of open incidents by severity and by state, who is on call now,
then the open queue. It has no keys to act and no dialogs; it needs no
keyboard at all.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Header, Label, Static

from bus import wire
from tui.board import Board
from tui.oncall import next_change
from tui.screen import ConsoleScreen
from tui.widgets import BusBanner, IncidentTable

WALL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "ID"),
    ("severity", "SEVERITY"),
    ("state", "STATE"),
    ("age", "AGE"),
    ("service", "SERVICE"),
    ("owner", "OWNER"),
    ("title", "TITLE"),
)
WALL_STATES = ("triggered", "acknowledged")
ONCALL_EVERY = 60.0  # seconds between asking who is on call, besides handoffs


class WallScreen(ConsoleScreen):
    """Counts up top, who is on call, the open queue below."""

    def __init__(self) -> None:
        super().__init__()
        self._oncall_stale_at: datetime | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=True)
        yield BusBanner(id="banner")
        with Horizontal(id="wall-counts"):
            for name in (*wire.SEVERITIES, *WALL_STATES):
                with Vertical(id=f"count-{name}", classes=f"count -{name}"):
                    yield Digits("0", id=f"digits-{name}")
                    yield Label(name, classes="count-label")
        yield Static(id="wall-oncall")
        yield IncidentTable(WALL_COLUMNS, focusable=False, id="wall-queue")
        yield Static("No open incidents. All quiet.", id="wall-empty")

    def on_mount(self) -> None:
        self.show_board(self.console.board, datetime.now(UTC))
        self.set_interval(ONCALL_EVERY, self._oncall_due)
        self.watch(self.app, "bus_state", self._bus_state_changed)

    @work(group="oncall", exclusive=True, exit_on_error=False)
    async def load_oncall(self) -> None:
        """Ask the engine who is on call now in every schedule."""
        oncall = await self.console.engine().query(wire.GetOnCall())
        assert isinstance(oncall, wire.OnCallList)
        self._oncall_stale_at = next_change(oncall)
        line = self.query_one("#wall-oncall", Static)
        line.display = bool(oncall.schedules)
        line.update(Text("on call: " + " · ".join(map(oncall_text, oncall.schedules))))

    def show_board(self, board: Board, now: datetime) -> None:
        counts = board.counts()
        for name, count in (*counts.by_severity.items(), *counts.by_state.items()):
            self.query_one(f"#digits-{name}", Digits).update(str(count))
            self.query_one(f"#count-{name}").set_class(count > 0, "-active")
        incidents = board.ordered(open_only=True)
        self.query_one(IncidentTable).show_incidents(incidents, now)
        self.query_one("#wall-empty").display = not incidents

    def tick(self, now: datetime) -> None:
        self.query_one(IncidentTable).tick(now)
        if self._oncall_stale_at is not None and now >= self._oncall_stale_at:
            self._oncall_stale_at = None  # ask once; the answer sets the next one
            self._oncall_due()

    def reload(self) -> None:
        self.load_oncall()

    def _bus_state_changed(self, state: str) -> None:
        if state == "live":
            self.load_oncall()

    def _oncall_due(self) -> None:
        # While the bus is away the banner says so; a toast a minute would not.
        if self.console.bus_state == "live":
            self.load_oncall()


def oncall_text(view: wire.OnCallView) -> str:
    """`primary: alice until 09:00`, as the wall shows one schedule."""
    if view.current is None:
        return f"{view.schedule}: nobody"
    until = view.current.end.astimezone()
    return f"{view.schedule}: {view.current.user} until {until:%H:%M}"
