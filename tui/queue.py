"""The live queue: every open incident and the recently resolved ones."""

from __future__ import annotations

from datetime import UTC, datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from bus import wire
from tui.board import Board
from tui.incident import IncidentScreen
from tui.oncall import OnCallScreen
from tui.screen import ResponderScreen
from tui.silences import SilencesScreen
from tui.widgets import BusBanner, IncidentTable


class QueueScreen(ResponderScreen):
    """The responder's queue; enter opens the incident under the cursor."""

    BINDINGS = [
        Binding("s", "silences", "Silences", id="silences"),
        Binding("o", "oncall", "On call", id="oncall"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield BusBanner(id="banner")
        yield Static(id="queue-summary")
        yield IncidentTable(id="queue")
        yield Static("No incidents. All quiet.", id="queue-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.show_board(self.console.board, datetime.now(UTC))

    @on(DataTable.RowSelected, "#queue")
    def open_incident(self) -> None:
        """Open the incident under the cursor."""
        incident = self.selected_incident()
        if incident is not None:
            self.app.push_screen(IncidentScreen(incident))

    def action_silences(self) -> None:
        """Show the active silences."""
        self.app.push_screen(SilencesScreen())

    def action_oncall(self) -> None:
        """Show who is on call now and next, and the overrides."""
        self.app.push_screen(OnCallScreen())

    def show_board(self, board: Board, now: datetime) -> None:
        incidents = board.ordered()
        self.query_one(IncidentTable).show_incidents(incidents, now)
        self.query_one("#queue-empty").display = not incidents
        counts = board.counts()
        parts = [f"{n} {s}" for s, n in counts.by_state.items()]
        parts += [f"{n} {s}" for s, n in counts.by_severity.items() if n]
        self.query_one("#queue-summary", Static).update("open: " + ", ".join(parts))

    def tick(self, now: datetime) -> None:
        self.query_one(IncidentTable).tick(now)

    def selected_incident(self) -> wire.IncidentSummary | None:
        incident_id = self.query_one(IncidentTable).selected_id()
        if incident_id is None:
            return None
        return self.console.board.incidents.get(incident_id)
