"""The silences screen: active silences, adding one, expiring one.

Silences change by commands, not events (they belong to no incident), so the
screen asks the engine again after its own commands, when a noise event hints
that a silence started or ended, and every `POLL_EVERY` seconds for the
commands of other consoles and the command line.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Footer, Header, Static

from bus import wire
from tui.dialogs import SilenceDialog, SilenceRequest
from tui.durations import countdown
from tui.render import Palette, clock
from tui.screen import ConsoleScreen
from tui.widgets import BusBanner

SILENCE_COLUMNS = (
    ("id", "ID"),
    ("matchers", "MATCHERS"),
    ("ends_in", "ENDS IN"),
    ("ends_at", "ENDS AT"),
    ("created_by", "AUTHOR"),
    ("comment", "COMMENT"),
)
# The engine's default `silences.warn_before`: a silence this close to its end
# shows as expiring even before the engine says so on a timeline.
EXPIRING = timedelta(minutes=10)
POLL_EVERY = 5.0  # seconds between asking for silences others added
NOISE_EVENTS = frozenset({"suppressed", "released", "silence_expiring"})


class SilencesScreen(ConsoleScreen):
    """Active silences with their matchers, author, comment and countdown."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("a", "add_silence", "Add silence", id="silence_add"),
        Binding("x", "expire_silence", "Expire", id="silence_expire"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.silences: list[wire.SilenceView] = []
        self._shown: dict[int, tuple[str, bool]] = {}  # id: (ends in, expiring)

    def compose(self) -> ComposeResult:
        yield Header()
        yield BusBanner(id="banner")
        yield Static(id="silences-summary")
        yield DataTable(id="silences", cursor_type="row", zebra_stripes=True)
        yield Static("No active silences: every alert may page.", id="silences-empty")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#silences", DataTable)
        for key, label in SILENCE_COLUMNS:
            table.add_column(label, key=key)
        self.set_interval(POLL_EVERY, self.load_silences)
        self.load_silences()

    def action_add_silence(self) -> None:
        """Ask for matchers, a duration and a comment, then add the silence."""

        def add(request: SilenceRequest | None) -> None:
            if request is not None:
                self.add_silence(request)

        self.app.push_screen(SilenceDialog(), add)

    def action_expire_silence(self) -> None:
        """End the silence under the cursor now."""
        silence = self.selected_silence()
        if silence is None:
            self.notify("no silence selected", severity="warning")
            return
        self.expire_silence(silence.id)

    @work(group="silences", exclusive=True, exit_on_error=False)
    async def load_silences(self) -> None:
        """Ask the engine for the active silences."""
        reply = await self.console.engine().query(wire.ListSilences(all=False))
        assert isinstance(reply, wire.SilenceList)
        self._show(reply.silences, datetime.now(UTC))

    @work(group="silence-commands", exit_on_error=False)
    async def add_silence(self, request: SilenceRequest) -> None:
        """Add a silence as the console's user."""
        reply = await self.console.engine().reply(
            wire.AddSilence(
                matchers=request.matchers,
                duration=request.duration.seconds,
                comment=request.comment,
                actor=self.console.actor(),
            )
        )
        made = f"silence {reply.silence.id}" if reply.silence else "silence"
        self.notify(f"{made} added for {request.duration.label}")
        self.load_silences()

    @work(group="silence-commands", exit_on_error=False)
    async def expire_silence(self, silence_id: int) -> None:
        """End a silence now as the console's user."""
        await self.console.engine().reply(
            wire.ExpireSilence(silence=silence_id, actor=self.console.actor())
        )
        self.notify(f"silence {silence_id} expired")
        self.load_silences()

    def take_events(self, events: list[wire.Event]) -> None:
        if any(e.type in NOISE_EVENTS for e in events):
            self.load_silences()

    def tick(self, now: datetime) -> None:
        self._show(self.silences, now)

    def reload(self) -> None:
        self.load_silences()

    def selected_silence(self) -> wire.SilenceView | None:
        """The silence under the cursor, if there is one."""
        table = self.query_one("#silences", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key
        return next((s for s in self.silences if str(s.id) == key.value), None)

    def expiring(self, silence: wire.SilenceView, now: datetime) -> bool:
        """Whether the silence ends soon, or the engine said it does."""
        return (
            silence.ends_at - now <= EXPIRING
            or silence.id in self.console.expiring_silences
        )

    def _show(self, silences: list[wire.SilenceView], now: datetime) -> None:
        live = [s for s in silences if s.ends_at > now]  # gone before the next ask
        table = self.query_one("#silences", DataTable)
        palette = Palette(self.app.get_css_variables())
        if [s.id for s in live] != list(self._shown):
            self._rebuild(table, live, now, palette)
        else:
            for silence in live:
                self._update(table, silence, now, palette)
        self.silences = live
        soon = sum(1 for s in live if self.expiring(s, now))
        self.query_one("#silences-summary", Static).update(
            f"{len(live)} active silence(s), {soon} expiring soon"
        )
        self.query_one("#silences-empty").display = not live

    def _rebuild(self, table: DataTable, silences, now, palette) -> None:
        selected = self.selected_silence()
        table.clear()
        self._shown.clear()
        for silence in silences:
            cells = self._cells(silence, now, palette)
            table.add_row(*cells.values(), key=str(silence.id))
        ids = [s.id for s in silences]
        if selected is not None and selected.id in ids:
            table.move_cursor(row=ids.index(selected.id), animate=False)

    def _update(self, table: DataTable, silence, now, palette) -> None:
        before = self._shown[silence.id]
        cells = self._cells(silence, now, palette)
        if before == self._shown[silence.id]:
            return
        if before[1] == self._shown[silence.id][1]:
            cells = {"ends_in": cells["ends_in"]}  # only the countdown moved
        for key, cell in cells.items():
            table.update_cell(str(silence.id), key, cell, update_width=True)

    def _cells(self, silence: wire.SilenceView, now, palette) -> dict[str, Text]:
        expiring = self.expiring(silence, now)
        style = palette.warning if expiring else ""
        ends_in = countdown(silence.ends_at, now) + (" expiring" if expiring else "")
        self._shown[silence.id] = (ends_in, expiring)
        texts = {
            "id": str(silence.id),
            "matchers": " ".join(silence.matchers),
            "ends_in": ends_in,
            "ends_at": clock(silence.ends_at),
            "created_by": silence.created_by,
            "comment": silence.comment,
        }
        return {key: Text(texts[key], style=style) for key, _ in SILENCE_COLUMNS}
