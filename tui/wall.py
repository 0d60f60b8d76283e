"""The wall: a read-only queue for a NOC screen, readable across a room.

Big counts of open incidents by severity and by state, then the open queue.
It has no keys to act and no dialogs; it needs no keyboard at all.
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Header, Label, Static

from bus import wire
from tui.board import Board
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


class WallScreen(ConsoleScreen):
    """Counts up top, the open queue below."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=True)
        yield BusBanner(id="banner")
        with Horizontal(id="wall-counts"):
            for name in (*wire.SEVERITIES, *WALL_STATES):
                with Vertical(id=f"count-{name}", classes=f"count -{name}"):
                    yield Digits("0", id=f"digits-{name}")
                    yield Label(name, classes="count-label")
        yield IncidentTable(WALL_COLUMNS, focusable=False, id="wall-queue")
        yield Static("No open incidents. All quiet.", id="wall-empty")

    def on_mount(self) -> None:
        self.show_board(self.console.board, datetime.now(UTC))

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
