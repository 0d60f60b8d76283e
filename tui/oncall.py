"""Who is on call now and next in every schedule, and the overrides.

What the engine answers changes at shift boundaries and with overrides, which
no event announces: the screen asks again when the soonest shift it shows
ends, after its own commands, and every `POLL_EVERY` seconds for overrides
that other consoles or the command line made.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Footer, Header, Label

from bus import wire
from tui.dialogs import OverrideDialog, OverrideRequest
from tui.render import Palette, age, clock
from tui.screen import ConsoleScreen
from tui.widgets import BusBanner

ONCALL_COLUMNS = (
    ("schedule", "SCHEDULE"),
    ("now", "ON CALL NOW"),
    ("until", "UNTIL"),
    ("source", "FROM"),
    ("next", "NEXT"),
    ("next_from", "NEXT FROM"),
    ("timezone", "ZONE"),
)
OVERRIDE_COLUMNS = (
    ("id", "ID"),
    ("schedule", "SCHEDULE"),
    ("user", "USER"),
    ("replacing", "REPLACING"),
    ("start", "FROM"),
    ("end", "TO"),
    ("author", "AUTHOR"),
)
POLL_EVERY = 15.0  # seconds between asking again for overrides others made


def next_change(oncall: wire.OnCallList) -> datetime | None:
    """The soonest time a shown shift ends or starts: the answer is stale then."""
    times = []
    for view in oncall.schedules:
        if view.current is not None:
            times.append(view.current.end)
        if view.next is not None:
            times.append(view.next.start)
    return min(times, default=None)


def shift_cells(view: wire.OnCallView, now: datetime) -> dict[str, Text]:
    """One schedule's row: who is on call, until when, and who follows."""
    current, following = view.current, view.next
    return {
        "schedule": Text(view.schedule),
        "now": Text(current.user if current else "nobody: a gap"),
        "until": until_cell(current, now),
        "source": Text(_source(current)),
        "next": Text(following.user if following else "-"),
        "next_from": Text(clock(following.start) if following else "-"),
        "timezone": Text(view.timezone),
    }


def until_cell(shift: wire.ShiftView | None, now: datetime) -> Text:
    """When the shift ends, and in how long."""
    if shift is None:
        return Text("-")
    return Text(f"{clock(shift.end)} (in {age(now, shift.end)})")


def _source(shift: wire.ShiftView | None) -> str:
    if shift is None:
        return "-"
    if shift.replacing:
        return f"{shift.source}, replacing {shift.replacing}"
    return shift.source


class OnCallScreen(ConsoleScreen):
    """Every schedule's on-call person now and next, then the overrides."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("a", "add_override", "Add override", id="override_add"),
        Binding("x", "remove_override", "Remove override", id="override_remove"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.oncall: wire.OnCallList | None = None
        self.overrides: list[wire.OverrideView] = []
        self._stale_at: datetime | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield BusBanner(id="banner")
        yield Label("On call", classes="section")
        yield DataTable(id="oncall", cursor_type="row", zebra_stripes=True)
        yield Label("Overrides", classes="section")
        yield DataTable(id="overrides", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        for table_id, columns in (
            ("#oncall", ONCALL_COLUMNS),
            ("#overrides", OVERRIDE_COLUMNS),
        ):
            table = self.query_one(table_id, DataTable)
            for key, label in columns:
                table.add_column(label, key=key)
        self.set_interval(POLL_EVERY, self.load_oncall)
        self.load_oncall()
        self.query_one("#overrides", DataTable).focus()

    def action_add_override(self) -> None:
        """Ask for a schedule, a person and a time, then add the override."""
        if self.oncall is None or not self.oncall.schedules:
            self.notify("no schedules to override", severity="warning")
            return
        self._ask_override([view.schedule for view in self.oncall.schedules])

    def action_remove_override(self) -> None:
        """Remove the override under the cursor."""
        override = self.selected_override()
        if override is None:
            self.notify("no override selected", severity="warning")
            return
        self.remove_override(override.id)

    @work(group="oncall", exclusive=True, exit_on_error=False)
    async def load_oncall(self) -> None:
        """Ask the engine who is on call and for the overrides."""
        engine = self.console.engine()
        oncall, overrides = await asyncio.gather(
            engine.query(wire.GetOnCall()), engine.query(wire.ListOverrides())
        )
        assert isinstance(oncall, wire.OnCallList)
        assert isinstance(overrides, wire.OverrideList)
        self.oncall, self.overrides = oncall, overrides.overrides
        self._stale_at = next_change(oncall)
        self._show(datetime.now(UTC))

    @work(group="override-commands", exit_on_error=False)
    async def add_override(self, request: OverrideRequest) -> None:
        """Add an override as the console's user."""
        reply = await self.console.engine().reply(
            wire.OverrideAdd(
                schedule=request.schedule,
                user=request.user,
                start=request.start,
                end=request.end,
                actor=self.console.actor(),
                replacing=request.replacing,
            )
        )
        made = f"override {reply.override.id}" if reply.override else "override"
        self.notify(f"{made} added: {request.user} on call in {request.schedule}")
        self.load_oncall()

    @work(group="override-commands", exit_on_error=False)
    async def remove_override(self, override_id: int) -> None:
        """Remove an override as the console's user."""
        await self.console.engine().reply(
            wire.OverrideRemove(id=override_id, actor=self.console.actor())
        )
        self.notify(f"override {override_id} removed")
        self.load_oncall()

    def tick(self, now: datetime) -> None:
        if self._stale_at is not None and now >= self._stale_at:
            self._stale_at = None  # ask once; the answer sets the next one
            self.load_oncall()
        elif self.oncall is not None:
            table = self.query_one("#oncall", DataTable)
            for view in self.oncall.schedules:
                cell = until_cell(view.current, now)
                table.update_cell(view.schedule, "until", cell, update_width=True)

    def reload(self) -> None:
        self.load_oncall()

    def selected_override(self) -> wire.OverrideView | None:
        """The override under the cursor, if there is one."""
        table = self.query_one("#overrides", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key
        return next((o for o in self.overrides if str(o.id) == key.value), None)

    @work(group="users", exclusive=True, exit_on_error=False)
    async def _ask_override(self, schedules: list[str]) -> None:
        """Load the users, then show the override dialog."""
        users = await self.console.engine().users()

        def add(request: OverrideRequest | None) -> None:
            if request is not None:
                self.add_override(request)

        self.app.push_screen(OverrideDialog(schedules, users), add)

    def _show(self, now: datetime) -> None:
        assert self.oncall is not None
        table = self.query_one("#oncall", DataTable)
        table.clear()
        for view in self.oncall.schedules:
            cells = shift_cells(view, now)
            table.add_row(*(cells[k] for k, _ in ONCALL_COLUMNS), key=view.schedule)
        self._show_overrides(now)

    def _show_overrides(self, now: datetime) -> None:
        palette = Palette(self.app.get_css_variables())
        table = self.query_one("#overrides", DataTable)
        selected = self.selected_override()
        table.clear()
        for o in self.overrides:
            style = palette.warning if o.start <= now < o.end else ""  # in force
            texts = (
                str(o.id), o.schedule, o.user, o.replacing or "-",
                clock(o.start), clock(o.end), o.author,
            )  # fmt: skip
            table.add_row(*(Text(t, style=style) for t in texts), key=str(o.id))
        ids = [o.id for o in self.overrides]
        if selected is not None and selected.id in ids:
            table.move_cursor(row=ids.index(selected.id), animate=False)
