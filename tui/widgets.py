"""Widgets the console's screens share: the incident table and the bus banner."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from bus import wire
from tui.render import Palette, age, incident_cells

QUEUE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "ID"),
    ("severity", "SEVERITY"),
    ("state", "STATE"),
    ("age", "AGE"),
    ("service", "SERVICE"),
    ("owner", "OWNER"),
    ("alerts", "ALERTS"),
    ("title", "TITLE"),
)

BUS_MESSAGES = {
    "connecting": "connecting to the bus at {url}",
    "syncing": "connected; loading the queue from the engine",
    "disconnected": "bus connection lost, reconnecting: the queue may be stale",
    "failed": "cannot reach the bus: {problem}",
}


class IncidentTable(DataTable):
    """Incidents, one row each, keyed by incident id; updates in place."""

    def __init__(
        self,
        columns: tuple[tuple[str, str], ...] = QUEUE_COLUMNS,
        *,
        focusable: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.can_focus = focusable
        self._columns = columns
        self._order: list[int] = []
        self._shown: dict[int, wire.IncidentSummary] = {}
        self._ages: dict[int, str] = {}
        self._palette: tuple[str, Palette] | None = None

    def on_mount(self) -> None:
        for key, label in self._columns:
            self.add_column(label, key=key)

    def show_incidents(
        self, incidents: list[wire.IncidentSummary], now: datetime
    ) -> None:
        """Show these incidents in this order, keeping the cursor on its incident.

        When the order is unchanged only the changed rows are rewritten, so a
        storm of updates to a long queue does not rebuild it ten times a second.
        """
        palette = self._theme_palette()
        order = [incident.id for incident in incidents]
        if order == self._order:
            for incident in incidents:
                if self._shown.get(incident.id) is not incident:
                    self._update_row(incident, now, palette)
        else:
            self._rebuild(incidents, now, palette)
        self._order = order
        self._shown = {incident.id: incident for incident in incidents}

    def tick(self, now: datetime) -> None:
        """Let the ages grow, rewriting only the cells whose text changed."""
        if not any(key == "age" for key, _ in self._columns):
            return
        palette = self._theme_palette()
        for incident in self._shown.values():
            if self._ages.get(incident.id) != age(incident.created_at, now):
                self._set_age(incident, incident_cells(incident, now, palette)["age"])

    def selected_id(self) -> int | None:
        """The id of the incident under the cursor, if there is one."""
        if self.row_count == 0:
            return None
        row_key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        return int(row_key.value) if row_key.value is not None else None

    def _theme_palette(self) -> Palette:
        if self._palette is None or self._palette[0] != self.app.theme:
            self._palette = (self.app.theme, Palette(self.app.get_css_variables()))
        return self._palette[1]

    def _set_age(self, incident: wire.IncidentSummary, cell: Text) -> None:
        self.update_cell(str(incident.id), "age", cell, update_width=True)
        self._ages[incident.id] = cell.plain

    def _cells(self, incident: wire.IncidentSummary, now, palette) -> list[Text]:
        cells = incident_cells(incident, now, palette)
        self._ages[incident.id] = cells["age"].plain
        return [cells[key] for key, _ in self._columns]

    def _update_row(self, incident: wire.IncidentSummary, now, palette) -> None:
        for key, cell in zip(
            (key for key, _ in self._columns),
            self._cells(incident, now, palette),
            strict=True,
        ):
            self.update_cell(str(incident.id), key, cell, update_width=True)

    def _rebuild(self, incidents: list[wire.IncidentSummary], now, palette) -> None:
        selected = self.selected_id()
        self.clear()
        self._ages.clear()
        for incident in incidents:
            self.add_row(*self._cells(incident, now, palette), key=str(incident.id))
        order = [incident.id for incident in incidents]
        if selected in order:
            self.move_cursor(row=order.index(selected), animate=False)


class BusBanner(Static):
    """A line across the top that says when the console is not live."""

    def on_mount(self) -> None:
        self.watch(self.app, "bus_state", self._show_state)
        self.watch(self.app, "bus_problem", lambda _: self._show_state())

    def _show_state(self, state: str | None = None) -> None:
        app = self.app
        state = state or getattr(app, "bus_state", "live")
        self.set_class(state != "live", "-visible")
        for name in BUS_MESSAGES:
            self.set_class(state == name, f"-{name}")
        template = BUS_MESSAGES.get(state)
        if template is None:
            return
        text = template.format(
            url=getattr(app, "bus_url", ""), problem=getattr(app, "bus_problem", "")
        )
        self.update(Text(text))
