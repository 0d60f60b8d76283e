"""What every console screen shares, and the responder's keys."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

from textual import work
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from bus import wire
from tui.board import Board
from tui.dialogs import (
    Duration,
    NoteDialog,
    ReassignDialog,
    Resolution,
    ResolveDialog,
    SnoozeDialog,
)

if TYPE_CHECKING:
    from tui.app import WarroomApp


class ConsoleScreen(Screen):
    """A screen that shows what the app's board and event stream hold.

    The app calls `show_board` when incidents changed, `take_events` with
    every batch of events and `tick` once a second; each is a no-op here.
    """

    @property
    def console(self) -> WarroomApp:
        """The app, typed."""
        return cast("WarroomApp", self.app)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.console.report_failure(event.worker.error)

    def show_board(self, board: Board, now: datetime) -> None:
        """Show the incidents the board holds now."""

    def take_events(self, events: list[wire.Event]) -> None:
        """See the events that just arrived, in arrival order."""

    def tick(self, now: datetime) -> None:
        """Let ages move on."""

    def reload(self) -> None:
        """Fetch again what was fetched: the bus came back after an outage."""


class ResponderScreen(ConsoleScreen):
    """A screen where the responder acts on one incident with a key."""

    BINDINGS = [
        Binding("a", "acknowledge", "Acknowledge", id="acknowledge"),
        Binding("r", "resolve", "Resolve", id="resolve"),
        Binding("n", "note", "Note", id="note"),
        Binding("e", "escalate", "Escalate now", id="escalate"),
        Binding("R", "reassign", "Reassign", id="reassign"),
        Binding("z", "snooze", "Snooze", id="snooze"),
    ]

    def action_acknowledge(self) -> None:
        """Take the incident."""
        incident = self._target()
        if incident is not None:
            self.console.acknowledge(incident.id)

    def action_resolve(self) -> None:
        """Ask for a close reason, then resolve."""
        incident = self._target()
        if incident is None:
            return

        def resolve(choice: Resolution | None) -> None:
            if choice is not None:
                self.console.resolve(incident.id, choice.reason, choice.note)

        self.app.push_screen(ResolveDialog(incident), resolve)

    def action_note(self) -> None:
        """Ask for a note, then add it to the timeline."""
        incident = self._target()
        if incident is None:
            return

        def add(text: str | None) -> None:
            if text:
                self.console.add_note(incident.id, text)

        self.app.push_screen(NoteDialog(incident), add)

    def action_escalate(self) -> None:
        """Start the next escalation level now."""
        incident = self._target()
        if incident is not None:
            self.console.escalate(incident.id)

    def action_reassign(self) -> None:
        """Ask whom to give the incident to, then reassign it."""
        incident = self._target()
        if incident is not None:
            self._ask_whom(incident)

    def action_snooze(self) -> None:
        """Ask for how long, then snooze the incident."""
        incident = self._target()
        if incident is None:
            return

        def snooze(choice: Duration | None) -> None:
            if choice is not None:
                self.console.snooze(incident.id, choice.seconds, choice.label)

        self.app.push_screen(SnoozeDialog(incident), snooze)

    def selected_incident(self) -> wire.IncidentSummary | None:
        """The incident the keys act on."""
        raise NotImplementedError

    @work(group="users", exclusive=True, exit_on_error=False)
    async def _ask_whom(self, incident: wire.IncidentSummary) -> None:
        """Load the users, then show the reassign dialog."""
        users = await self.console.engine().users()

        def reassign(user: str | None) -> None:
            if user:
                self.console.reassign(incident.id, user)

        self.app.push_screen(ReassignDialog(incident, users), reassign)

    def _target(self) -> wire.IncidentSummary | None:
        incident = self.selected_incident()
        if incident is None:
            self.notify("no incident selected", severity="warning")
        return incident
