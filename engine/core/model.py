"""The engine's state in memory: incidents, their alerts, and what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

AlertKey = tuple[str, str]  # (integration, dedup_key): two sources never collide


@dataclass(slots=True)
class AlertRecord:
    """One alert as the incident holds it."""

    incident_id: int
    integration: str
    source: str
    dedup_key: str
    status: str
    severity: str
    title: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    last_seen_at: datetime
    count: int = 1
    stored: bool = False
    paged: bool = False  # this alert's arrival decided a page
    hold: dict[str, str] | None = None  # Hold.as_dict() of the stage that held it

    @property
    def key(self) -> AlertKey:
        return (self.integration, self.dedup_key)


@dataclass(slots=True)
class Incident:
    """A group of alerts one person should own."""

    id: int
    title: str
    severity: str
    state: str
    service: str | None
    team: str | None
    group_key: str | None
    created_at: datetime
    owner: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    close_reason: str | None = None
    last_event_id: int = 0
    alerts: dict[AlertKey, AlertRecord] = field(default_factory=dict)
    stored: bool = False
    paged: bool = False  # a page was decided (perhaps still held by group_wait)
    page_due: datetime | None = None  # when group_wait releases the first page

    @property
    def alert_count(self) -> int:
        return len(self.alerts)

    @property
    def is_open(self) -> bool:
        return self.state != "resolved"


@dataclass(slots=True)
class TimelineEntry:
    """One event of an incident's append-only timeline."""

    id: int
    incident_id: int
    type: str
    at: datetime
    actor: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    """The decision that an incident should reach a person now.

    Escalation turns a page into notify jobs; noise reduction decides which
    alerts cause one. `reason` says why: `opened`, `severity_raised`, ...
    """

    incident_id: int
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Hold:
    """Why an alert did not page: the stage that held it and the reason.

    `reason` is the `suppressed` event's word (`silenced`, `inhibited`,
    `maintenance`, `flapping`, `storm`, `grouped`); `ref` names what held
    it (`silence:4`, `inhibit:prom|dc-down`, `maintenance:db`) so that its
    end can release the alerts it held.
    """

    stage: str
    reason: str
    detail: str
    ref: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "stage": self.stage,
            "reason": self.reason,
            "detail": self.detail,
            "ref": self.ref,
        }


@dataclass(frozen=True, slots=True)
class Timer:
    """A step the shell runs at `due` with the time it fires.

    `kind` is `group_wait` (ref: incident id), `silence_expiring` and
    `silence_ended` (ref: silence id) or `maintenance_ended` (ref: service).
    """

    due: datetime
    kind: str
    ref: str


@dataclass(slots=True)
class Effects:
    """What one step changed: to store in one transaction, then publish."""

    events: list[TimelineEntry] = field(default_factory=list)
    incidents: dict[int, Incident] = field(default_factory=dict)
    alerts: dict[tuple[int, str, str], AlertRecord] = field(default_factory=dict)
    touched: dict[tuple[int, str, str], AlertRecord] = field(default_factory=dict)
    orphans: list[Any] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    silences: dict[int, Any] = field(default_factory=dict)  # id -> Silence
    stale: list[Any] = field(default_factory=list)  # alerts older than their state

    def touch(self, incident: Incident) -> None:
        self.incidents[incident.id] = incident

    def touch_alert(self, record: AlertRecord) -> None:
        """The alert changed in a way the store must write in full."""
        self.alerts[(record.incident_id, record.integration, record.dedup_key)] = record

    def touch_repeat(self, record: AlertRecord) -> None:
        """Only the alert's count, last seen time and annotations changed."""
        self.touched[(record.incident_id, record.integration, record.dedup_key)] = (
            record
        )


@dataclass(slots=True)
class NoiseState:
    """What the noise-reduction stages remember between alerts.

    The dicts keyed by time are in time order (a key is moved to the end
    when it changes), so pruning pops from the front.
    """

    silences: dict[int, Any] = field(default_factory=dict)  # id -> Silence
    next_silence_id: int = 1
    resolved: dict[int, Incident] = field(default_factory=dict)  # reopen window
    resolved_by_alert: dict[AlertKey, int] = field(default_factory=dict)
    recovered: dict[AlertKey, datetime] = field(default_factory=dict)
    changes: dict[AlertKey, list[datetime]] = field(default_factory=dict)
    flapping_until: dict[AlertKey, datetime] = field(default_factory=dict)
    arrivals: dict[str, list[datetime]] = field(default_factory=dict)  # storm
    # inhibit: (rule index, values of its `equal` labels) -> firing sources
    sources: dict[tuple[int, tuple[str, ...]], dict[AlertKey, int]] = field(
        default_factory=dict
    )


@dataclass(slots=True)
class State:
    """Open incidents and the indexes that find them; ids are assigned here."""

    incidents: dict[int, Incident] = field(default_factory=dict)
    open_by_group: dict[str, int] = field(default_factory=dict)
    open_by_alert: dict[AlertKey, int] = field(default_factory=dict)
    next_incident_id: int = 1
    next_event_id: int = 1
    noise: NoiseState = field(default_factory=lambda: NoiseState())

    def add(self, incident: Incident) -> None:
        """Hold an incident and, while it is open, index its group and alerts."""
        self.incidents[incident.id] = incident
        self.next_incident_id = max(self.next_incident_id, incident.id + 1)
        if incident.is_open:
            if incident.group_key:
                self.open_by_group[incident.group_key] = incident.id
            for key in incident.alerts:
                self.open_by_alert[key] = incident.id

    def close(self, incident: Incident) -> None:
        """Stop finding a resolved incident by its group or its alerts."""
        if (
            incident.group_key
            and self.open_by_group.get(incident.group_key) == incident.id
        ):
            del self.open_by_group[incident.group_key]
        for key in incident.alerts:
            if self.open_by_alert.get(key) == incident.id:
                del self.open_by_alert[key]

    def record(
        self,
        effects: Effects,
        incident: Incident,
        type: str,
        at: datetime,
        actor: str,
        text: str,
        **data: Any,
    ) -> TimelineEntry:
        """Append an event to an incident's timeline."""
        entry = TimelineEntry(
            self.next_event_id, incident.id, type, at, actor, text, data
        )
        self.next_event_id += 1
        incident.last_event_id = entry.id
        effects.events.append(entry)
        effects.touch(incident)
        return entry
