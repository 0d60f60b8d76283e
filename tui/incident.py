"""One incident: its header, its escalation clock, its alerts and its timeline.

Each alert says whether it paged and, if not, which stage held it and why. The
escalation line counts down to the next level once a second and is fetched
again whenever an event may have moved it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, Header, Label, Static

from bus import wire
from tui.board import Board
from tui.render import Palette, clock, escalation_text, incident_status, paged_text
from tui.screen import ResponderScreen
from tui.widgets import BusBanner

ALERT_COLUMNS = (
    ("status", "STATUS"),
    ("severity", "SEVERITY"),
    ("dedup_key", "DEDUP_KEY"),
    ("count", "COUNT"),
    ("title", "TITLE"),
    ("paged", "PAGED"),
)
TIMELINE_COLUMNS = (
    ("at", "WHEN"),
    ("type", "TYPE"),
    ("actor", "ACTOR"),
    ("text", "TEXT"),
)
# Events that change the alerts of an incident (or whether they paged), which
# events do not carry.
ALERT_EVENTS = frozenset(
    {"alert_added", "alert_updated", "alert_resolved", "reopened"}
    | {"suppressed", "released", "group_full"}
)
# Events that move the escalation: the countdown is fetched again after them.
ESCALATION_EVENTS = frozenset(
    {"escalated", "acknowledged", "snoozed", "unacknowledged", "reassigned"}
    | {"opened", "reopened", "resolved", "released"}
)
RELOAD_DELAY = 0.3  # seconds: one alerts refetch for a burst of alert events


class IncidentScreen(ResponderScreen):
    """The incident view; escape goes back to the queue."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="back")]

    def __init__(self, incident: wire.IncidentSummary) -> None:
        super().__init__()
        self.incident = incident
        self.events: dict[int, wire.Event] = {}
        self._shown_up_to = 0
        self._reload_due = False
        self.escalation: wire.EscalationView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield BusBanner(id="banner")
        yield Static(id="incident-title")
        yield Static(id="incident-status")
        yield Static(id="incident-place")
        yield Static(id="incident-escalation")
        yield Label("Alerts", classes="section")
        yield DataTable(id="alerts", cursor_type="row", zebra_stripes=True)
        yield Label("Timeline", classes="section")
        yield DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        for table_id, columns in (
            ("#alerts", ALERT_COLUMNS),
            ("#timeline", TIMELINE_COLUMNS),
        ):
            table = self.query_one(table_id, DataTable)
            for key, label in columns:
                table.add_column(label, key=key)
        self._show_header(datetime.now(UTC))
        self.load_detail()
        self.load_escalation()

    @work(group="detail", exclusive=True, exit_on_error=False)
    async def load_detail(self) -> None:
        """Fetch the incident's alerts and timeline from the engine."""
        detail = await self.console.engine().incident(self.incident.id)
        self._take_summary(detail.incident)
        self._show_alerts(detail.alerts)
        self._add_events(detail.timeline)

    @work(group="escalation", exclusive=True, exit_on_error=False)
    async def load_escalation(self) -> None:
        """Fetch where the incident stands in its escalation."""
        view = await self.console.engine().query(
            wire.GetEscalation(incident=self.incident.id)
        )
        assert isinstance(view, wire.EscalationView)
        self.escalation = view
        self._show_escalation(datetime.now(UTC))

    def show_board(self, board: Board, now: datetime) -> None:
        held = board.incidents.get(self.incident.id)
        if held is not None:
            self._take_summary(held)

    def take_events(self, events: list[wire.Event]) -> None:
        mine = [e for e in events if e.incident_id == self.incident.id]
        if not mine or not self.is_mounted:
            return  # before mount: on_mount fetches the whole timeline anyway
        for event in mine:
            if event.incident is not None:
                self._take_summary(event.incident)
        self._add_events(mine)
        if not self._reload_due and any(e.type in ALERT_EVENTS for e in mine):
            self._reload_due = True
            self.set_timer(RELOAD_DELAY, self._reload_alerts)
        if any(e.type in ESCALATION_EVENTS for e in mine):
            self.load_escalation()  # exclusive: a burst costs one answer

    def tick(self, now: datetime) -> None:
        if self.is_mounted:
            self._show_header(now)

    def reload(self) -> None:
        self.load_detail()
        self.load_escalation()

    def selected_incident(self) -> wire.IncidentSummary | None:
        return self.incident

    def _reload_alerts(self) -> None:
        self._reload_due = False
        self.load_detail()

    def _take_summary(self, incident: wire.IncidentSummary) -> None:
        if incident.last_event_id > self.incident.last_event_id:
            self.incident = incident
            self._show_header(datetime.now(UTC))

    def _show_header(self, now: datetime) -> None:
        incident = self.incident
        try:
            title = self.query_one("#incident-title", Static)
        except NoMatches:
            return  # the screen is being built or torn down; the next tick draws it
        title.update(Text(f"#{incident.id}  {incident.title}"))
        for severity in wire.SEVERITIES:
            title.set_class(incident.severity == severity, f"-{severity}")
        self.query_one("#incident-status", Static).update(
            Text(incident_status(incident, now))
        )
        self.query_one("#incident-place", Static).update(
            Text(
                f"service {incident.service or '-'} (team {incident.team or '-'})"
                f" · owner {incident.owner or '-'}"
                f" · {incident.alert_count} alert(s)"
            )
        )
        self._show_escalation(now)

    def _show_escalation(self, now: datetime) -> None:
        self.query_one("#incident-escalation", Static).update(
            Text(escalation_text(self.escalation, self.incident, now))
        )

    def _show_alerts(self, alerts: list[wire.AlertView]) -> None:
        palette = Palette(self.app.get_css_variables())
        table = self.query_one("#alerts", DataTable)
        table.clear()
        for alert in alerts:
            table.add_row(
                Text(alert.status),
                palette.severity_cell(alert.severity),
                Text(alert.dedup_key),
                Text(str(alert.count)),
                Text(alert.title),
                Text(
                    paged_text(alert),
                    style=palette.warning if alert.held_by and not alert.paged else "",
                ),
                key=f"{alert.integration}/{alert.dedup_key}",
            )

    def _add_events(self, events: list[wire.Event]) -> None:
        fresh = [e for e in events if e.id not in self.events]
        if not fresh:
            return
        for event in fresh:
            self.events[event.id] = event
        table = self.query_one("#timeline", DataTable)
        if min(e.id for e in fresh) > self._shown_up_to:
            rows = sorted(fresh, key=lambda e: e.id)  # they follow what is shown
        else:
            table.clear()  # an older event arrived late: put it in its place
            rows = sorted(self.events.values(), key=lambda e: e.id)
        for event in rows:
            table.add_row(
                Text(clock(event.at)),
                Text(event.type),
                Text(event.actor),
                Text(event.text),
                key=str(event.id),
            )
        self._shown_up_to = max(self.events)
        table.scroll_end(animate=False)
