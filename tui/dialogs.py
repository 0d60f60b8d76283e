"""Modal dialogs a responder answers before a command is sent."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from bus import wire

REASON_HELP = {
    "fixed": "the problem was real and is fixed",
    "invalid": "the alert was wrong: nothing was broken",
    "duplicate": "another incident covers it",
    "maintenance": "planned work caused it",
}


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the responder chose in the resolve dialog."""

    reason: str
    note: str | None


class ResolveDialog(ModalScreen[Resolution | None]):
    """Ask for the close reason and an optional note."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, incident: wire.IncidentSummary) -> None:
        super().__init__()
        self.incident = incident

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                Text(f"Resolve incident {self.incident.id}: {self.incident.title}"),
                classes="dialog-title",
            )
            yield Label("Close reason")
            yield OptionList(
                *(
                    Option(f"{reason:<12} {REASON_HELP.get(reason, '')}", id=reason)
                    for reason in wire.MANUAL_CLOSE_REASONS
                ),
                id="reason",
            )
            yield Input(placeholder="note (optional)", id="note")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Resolve", variant="error", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reason", OptionList).highlighted = 0

    @on(OptionList.OptionSelected, "#reason")
    @on(Input.Submitted, "#note")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        """Resolve with the highlighted reason and the note, if any."""
        reasons = self.query_one("#reason", OptionList)
        if reasons.highlighted is None:
            self.notify("choose a close reason", severity="warning")
            return
        reason = wire.MANUAL_CLOSE_REASONS[reasons.highlighted]
        note = self.query_one("#note", Input).value.strip() or None
        self.dismiss(Resolution(reason, note))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close the dialog without resolving."""
        self.dismiss(None)


class NoteDialog(ModalScreen[str | None]):
    """Ask for the text of a note on the timeline."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, incident: wire.IncidentSummary) -> None:
        super().__init__()
        self.incident = incident

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                Text(f"Note on incident {self.incident.id}: {self.incident.title}"),
                classes="dialog-title",
            )
            yield Input(placeholder="what you found or did", id="text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add note", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted, "#text")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        """Add the note, unless it is empty."""
        text = self.query_one("#text", Input).value.strip()
        if not text:
            self.notify("a note needs some text", severity="warning")
            return
        self.dismiss(text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close the dialog without a note."""
        self.dismiss(None)
