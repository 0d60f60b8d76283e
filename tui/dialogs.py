"""Modal dialogs a responder answers before a command is sent."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from bus import wire
from tui.durations import InputProblem, parse_duration, parse_start

REASON_HELP = {
    "fixed": "the problem was real and is fixed",
    "invalid": "the alert was wrong: nothing was broken",
    "duplicate": "another incident covers it",
    "maintenance": "planned work caused it",
}


Answer = TypeVar("Answer")


class Dialog(ModalScreen[Answer]):
    """A modal question: escape or Cancel closes it with no answer."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close the dialog without an answer: nothing is sent."""
        self.dismiss(None)


class IncidentDialog(Dialog[Answer]):
    """A dialog about one incident, titled with it."""

    def __init__(self, incident: wire.IncidentSummary) -> None:
        super().__init__()
        self.incident = incident

    def title_label(self, phrase: str) -> Label:
        """The dialog's title: what it does, to which incident."""
        return Label(
            Text(f"{phrase} {self.incident.id}: {self.incident.title}"),
            classes="dialog-title",
        )


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the responder chose in the resolve dialog."""

    reason: str
    note: str | None


class ResolveDialog(IncidentDialog[Resolution | None]):
    """Ask for the close reason and an optional note."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield self.title_label("Resolve incident")
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


class NoteDialog(IncidentDialog[str | None]):
    """Ask for the text of a note on the timeline."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield self.title_label("Note on incident")
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


class ReassignDialog(IncidentDialog[str | None]):
    """Ask whom to give the incident to, from the configured users."""

    def __init__(
        self, incident: wire.IncidentSummary, users: list[wire.UserView]
    ) -> None:
        super().__init__(incident)
        self.users = [u for u in users if u.handle != incident.owner]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield self.title_label("Reassign incident")
            yield Label(Text(f"Owner now: {self.incident.owner or 'nobody'}"))
            yield OptionList(
                *(Option(f"{u.handle:<12} {u.name}", id=u.handle) for u in self.users),
                id="user",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Reassign", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.users:
            self.query_one("#user", OptionList).highlighted = 0

    @on(OptionList.OptionSelected, "#user")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        """Reassign to the highlighted user."""
        users = self.query_one("#user", OptionList)
        if users.highlighted is None:
            self.notify("choose someone to reassign to", severity="warning")
            return
        self.dismiss(self.users[users.highlighted].handle)


@dataclass(frozen=True, slots=True)
class Duration:
    """How long, in seconds, and as the person wrote it."""

    seconds: float
    label: str


class SnoozeDialog(IncidentDialog[Duration | None]):
    """Ask how long to snooze an acknowledged incident."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield self.title_label("Snooze incident")
            yield Label("It returns to triggered when the snooze ends.")
            yield Input(value="15m", placeholder="15m, 1h, 1h30m", id="duration")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Snooze", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted, "#duration")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        """Snooze for the duration typed, if it reads as one."""
        text = self.query_one("#duration", Input).value.strip()
        try:
            seconds = parse_duration(text)
        except InputProblem as err:
            self.notify(str(err), severity="warning", markup=False)
            return
        self.dismiss(Duration(seconds, text))


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    """A silence to add: matchers, how long, and why."""

    matchers: list[str]
    duration: Duration
    comment: str


class SilenceDialog(Dialog[SilenceRequest | None]):
    """Ask for a silence's matchers, its duration and a comment."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Add a silence", classes="dialog-title")
            yield Label("Matchers, all of which must hold: name=value, !=, =~, !~")
            yield Input(
                placeholder="service=db 'severity=~warning|info'", id="matchers"
            )
            yield Label("For how long")
            yield Input(value="2h", placeholder="30m, 2h, 1h30m", id="duration")
            yield Label("Comment")
            yield Input(placeholder="why, for whoever reads it later", id="comment")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Silence", variant="warning", id="submit")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted, "#comment")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        """Add the silence, once every field reads."""
        try:
            request = self._request()
        except InputProblem as err:
            self.notify(str(err), severity="warning", markup=False)
            return
        self.dismiss(request)

    @on(Input.Submitted, "#matchers, #duration")
    def next_field(self) -> None:
        """Enter in a field moves to the next one."""
        self.focus_next()

    def _request(self) -> SilenceRequest:
        try:
            matchers = shlex.split(self.query_one("#matchers", Input).value)
        except ValueError as err:
            raise InputProblem(f"matchers: {err}") from err
        if not matchers:
            raise InputProblem("a silence needs at least one matcher")
        text = self.query_one("#duration", Input).value.strip()
        duration = Duration(parse_duration(text), text)
        comment = self.query_one("#comment", Input).value.strip()
        if not comment:
            raise InputProblem("a silence needs a comment: why, for whoever reads it")
        return SilenceRequest(matchers, duration, comment)


@dataclass(frozen=True, slots=True)
class OverrideRequest:
    """An override to add: who is on call in which schedule, from when to when."""

    schedule: str
    user: str
    start: datetime
    end: datetime
    replacing: str | None


class OverrideDialog(Dialog[OverrideRequest | None]):
    """Ask for a schedule, a person, a start, a duration and whom it replaces."""

    def __init__(self, schedules: list[str], users: list[wire.UserView]) -> None:
        super().__init__()
        self.schedules = schedules
        self.users = users

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Add an override", classes="dialog-title")
            with Horizontal(classes="dialog-choices"):
                yield OptionList(
                    *(Option(name, id=name) for name in self.schedules), id="schedule"
                )
                yield OptionList(
                    *(
                        Option(f"{u.handle:<12} {u.name}", id=u.handle)
                        for u in self.users
                    ),
                    id="user",
                )
            yield Label("From: now, +2h, or a local date and time")
            yield Input(value="now", placeholder="2025-03-30 09:00", id="start")
            yield Label("For how long")
            yield Input(value="8h", placeholder="8h, 1d", id="duration")
            yield Label("Replacing (optional)")
            yield Input(
                placeholder="the handle of the person it covers", id="replacing"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add override", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        for list_id, items in (("#schedule", self.schedules), ("#user", self.users)):
            if items:
                self.query_one(list_id, OptionList).highlighted = 0

    @on(Input.Submitted, "#replacing")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        """Add the override, once every field reads."""
        try:
            request = self._request(datetime.now(UTC))
        except InputProblem as err:
            self.notify(str(err), severity="warning", markup=False)
            return
        self.dismiss(request)

    @on(OptionList.OptionSelected)
    @on(Input.Submitted, "#start, #duration")
    def next_field(self) -> None:
        """Enter in a list or a field moves to the next one."""
        self.focus_next()

    def _request(self, now: datetime) -> OverrideRequest:
        schedule = self.query_one("#schedule", OptionList).highlighted
        user = self.query_one("#user", OptionList).highlighted
        if schedule is None or user is None:
            raise InputProblem("choose a schedule and a person")
        start = parse_start(self.query_one("#start", Input).value, now)
        seconds = parse_duration(self.query_one("#duration", Input).value)
        replacing = self.query_one("#replacing", Input).value.strip() or None
        return OverrideRequest(
            schedule=self.schedules[schedule],
            user=self.users[user].handle,
            start=start,
            end=start + timedelta(seconds=seconds),
            replacing=replacing,
        )
