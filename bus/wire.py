"""Wire types of the bus: every message that crosses NATS, as msgspec structs.

Messages are JSON so that a shell script or `nats pub` can produce an alert.
New fields go at the end with defaults, so older consoles keep decoding the
events of newer engines.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

Severity = Literal["critical", "error", "warning", "info"]
AlertStatus = Literal["firing", "resolved"]
IncidentState = Literal["triggered", "acknowledged", "resolved"]
CloseReason = Literal["fixed", "invalid", "duplicate", "maintenance", "auto"]

SEVERITIES: tuple[Severity, ...] = ("critical", "error", "warning", "info")
MANUAL_CLOSE_REASONS: tuple[str, ...] = ("fixed", "invalid", "duplicate", "maintenance")

SUBJECT_ALERTS = "warroom.alerts.in"
SUBJECT_EVENTS = "warroom.events"
SUBJECT_NOTIFY_JOBS = "warroom.notify.jobs"
SUBJECT_NOTIFY_RESULTS = "warroom.notify.results"
SUBJECT_NOTIFY_STEPS = "warroom.notify.steps"
SUBJECT_CMD = "warroom.cmd"
SUBJECT_QUERY = "warroom.query"


class Wire(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """Base of every bus message."""


# ---------------------------------------------------------------- alerts


class Alert(Wire, tag="alert"):
    """One normalized signal from one source, identified by its dedup key."""

    integration: str
    source: str
    dedup_key: str
    status: AlertStatus = "firing"
    severity: Severity | None = None
    title: str | None = None
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    group_key: str | None = None
    group_title: str | None = None
    received_at: datetime | None = None


class AlertBatch(Wire, tag="alert_batch"):
    """The alerts of one request body, published as one message."""

    alerts: list[Alert]


AlertMessage = Alert | AlertBatch


# ---------------------------------------------------------------- incidents


class IncidentSummary(Wire, tag="incident"):
    """The state of one incident, as the queue shows it."""

    id: int
    title: str
    severity: Severity
    state: IncidentState
    service: str | None
    team: str | None
    owner: str | None
    alert_count: int
    created_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    close_reason: CloseReason | None = None
    last_event_id: int = 0


class AlertView(Wire, tag="alert_view"):
    """One alert of an incident, as `show` prints it."""

    integration: str
    source: str
    dedup_key: str
    status: AlertStatus
    severity: Severity
    title: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    last_seen_at: datetime
    count: int
    paged: bool = False  # its arrival decided a page
    held_by: str | None = None  # the stage that held it: silence, inhibit, ...
    held_reason: str | None = None  # the `suppressed` reason: silenced, ...
    held_detail: str | None = None  # which silence, rule or window, in words


class Event(Wire, tag="event"):
    """One timeline entry of an incident, with the incident's state.

    `incident` is the state once the step that made the event committed (a
    whole batch, for alerts); consoles keep the summary with the highest
    `last_event_id`.
    """

    id: int
    incident_id: int
    type: str
    at: datetime
    actor: str
    text: str
    data: dict[str, Any] = {}
    incident: IncidentSummary | None = None


# ---------------------------------------------------------------- commands


class Ack(Wire, tag="ack"):
    """A person takes the incident."""

    incident: int
    actor: str


class Resolve(Wire, tag="resolve"):
    """A person closes the incident with a close reason."""

    incident: int
    actor: str
    reason: str
    note: str | None = None


class AddNote(Wire, tag="note"):
    """A person writes on the incident's timeline."""

    incident: int
    actor: str
    text: str


class Escalate(Wire, tag="escalate"):
    """A person starts the incident's next escalation level now."""

    incident: int
    actor: str


class Reassign(Wire, tag="reassign"):
    """A person gives the incident to someone else, who must acknowledge it."""

    incident: int
    actor: str
    user: str


class Snooze(Wire, tag="snooze"):
    """A person quiets an acknowledged incident for `seconds`."""

    incident: int
    actor: str
    seconds: float


class OverrideAdd(Wire, tag="override_add"):
    """A person puts `user` on call in a schedule from `start` to `end`."""

    schedule: str
    user: str
    start: datetime
    end: datetime
    actor: str
    replacing: str | None = None


class OverrideRemove(Wire, tag="override_remove"):
    """A person removes an override by its id."""

    id: int
    actor: str


class AddSilence(Wire, tag="silence_add"):
    """A person silences alerts matching `matchers` for `duration` seconds."""

    matchers: list[str]
    duration: float
    comment: str
    actor: str


class ExpireSilence(Wire, tag="silence_expire"):
    """A person ends a silence now."""

    silence: int
    actor: str


Command = (
    Ack
    | Resolve
    | AddNote
    | Escalate
    | Reassign
    | Snooze
    | OverrideAdd
    | OverrideRemove
    | AddSilence
    | ExpireSilence
)
SilenceCommand = (AddSilence, ExpireSilence)  # commands without an incident
ScheduleCommand = (OverrideAdd, OverrideRemove)  # commands without an incident


class OverrideView(Wire, tag="override"):
    """A run-time override of a schedule."""

    id: int
    schedule: str
    user: str
    start: datetime
    end: datetime
    author: str
    replacing: str | None = None
    created_at: datetime | None = None


class Reply(Wire, tag="reply"):
    """The engine's answer to a command."""

    ok: bool
    error: str | None = None
    incident: IncidentSummary | None = None
    override: OverrideView | None = None
    silence: SilenceView | None = None


# ---------------------------------------------------------------- queries


class ListIncidents(Wire, tag="list_incidents"):
    """Ask for incidents in a state (`open` is triggered or acknowledged)."""

    state: Literal["open", "triggered", "acknowledged", "resolved", "all"] = "open"
    limit: int = 500


class GetIncident(Wire, tag="get_incident"):
    """Ask for one incident with its alerts and timeline."""

    incident: int


class GetSnapshot(Wire, tag="get_snapshot"):
    """Ask for what a console needs to start: open and recent incidents."""

    recent_resolved: int = 50


class ListUsers(Wire, tag="list_users"):
    """Ask for the configured users and their login names."""


class GetOnCall(Wire, tag="get_oncall"):
    """Ask who is on call at `at` (now when None) in some or every schedule."""

    schedule: str | None = None
    team: str | None = None
    at: datetime | None = None


class GetShifts(Wire, tag="get_shifts"):
    """Ask for a schedule's final shifts over `days` from `start` (now)."""

    schedule: str
    start: datetime | None = None
    days: int = 7


class ListOverrides(Wire, tag="list_overrides"):
    """Ask for the overrides of one schedule, or of every one."""

    schedule: str | None = None


class GetEscalation(Wire, tag="get_escalation"):
    """Ask where an incident stands in its escalation: the console's countdown."""

    incident: int


class ListSilences(Wire, tag="list_silences"):
    """Ask for silences: active ones, or every one (`all`), newest first."""

    all: bool = False
    limit: int = 200


Query = (
    ListIncidents
    | GetIncident
    | GetSnapshot
    | ListUsers
    | GetOnCall
    | GetShifts
    | ListOverrides
    | GetEscalation
    | ListSilences
)


class IncidentList(Wire, tag="incident_list"):
    incidents: list[IncidentSummary]


class IncidentDetail(Wire, tag="incident_detail"):
    """An incident with its alerts and timeline, bounded to fit one message.

    A huge incident keeps its first alerts and its newest events; the
    `*_omitted` counts say how many were left out.
    """

    incident: IncidentSummary
    alerts: list[AlertView]
    timeline: list[Event]
    alerts_omitted: int = 0
    timeline_omitted: int = 0


class Snapshot(Wire, tag="snapshot"):
    """Open incidents and recently resolved ones, as of `last_event_id`."""

    incidents: list[IncidentSummary]
    last_event_id: int
    taken_at: datetime


class UserView(Wire, tag="user"):
    handle: str
    name: str
    logins: list[str] = []


class UserList(Wire, tag="user_list"):
    users: list[UserView]


class QueryFailed(Wire, tag="query_failed"):
    error: str


class ShiftView(Wire, tag="shift"):
    """A span one person is on call; `source` is `layer 1` or `override 7`."""

    user: str
    start: datetime
    end: datetime
    source: str
    replacing: str | None = None


class OnCallView(Wire, tag="oncall"):
    """Who is on call in one schedule at a time, since when, and who is next."""

    schedule: str
    timezone: str
    current: ShiftView | None
    next: ShiftView | None


class OnCallList(Wire, tag="oncall_list"):
    at: datetime
    schedules: list[OnCallView]


class ShiftList(Wire, tag="shift_list"):
    schedule: str
    timezone: str
    start: datetime
    end: datetime
    shifts: list[ShiftView]


class OverrideList(Wire, tag="override_list"):
    overrides: list[OverrideView]


class EscalationView(Wire, tag="escalation"):
    """Where an incident stands: the next level and when it starts.

    `due_at` None with a `policy` means paused (acknowledged) or exhausted;
    `snoozed_until` and `ack_due_at` are the other two clocks.
    """

    incident: int
    policy: str | None
    next_level: int | None
    levels: int
    repeat: int
    due_at: datetime | None
    exhausted: bool = False
    snoozed_until: datetime | None = None
    ack_due_at: datetime | None = None


class SilenceView(Wire, tag="silence"):
    """A silence as `silence list` and the console show it."""

    id: int
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    expired_by: str | None = None
    active: bool = False


class SilenceList(Wire, tag="silence_list"):
    silences: list[SilenceView]


QueryReply = (
    IncidentList
    | IncidentDetail
    | Snapshot
    | UserList
    | QueryFailed
    | OnCallList
    | ShiftList
    | OverrideList
    | EscalationView
    | SilenceList
)


# ---------------------------------------------------------------- notify


class NotifyJob(Wire, tag="notify_job"):
    """Reach one person (or, with `user` None, the team's chat room) now.

    `key` is the idempotency key: the same step and person always has the
    same one, so a re-published job is dropped (`Nats-Msg-Id`) or skipped by
    the channel worker. `level` is 1-based, 0 for a reassignment or an
    exhausted policy; `why` says why this person was chosen.
    """

    key: str
    incident: int
    user: str | None
    team: str | None
    level: int
    repeat: int
    reason: str
    why: str
    urgency: Literal["high", "low"]
    at: datetime
    title: str = ""
    severity: Severity | None = None
    service: str | None = None


NotifyOutcome = Literal["delivered", "failed", "throttled", "bundled"]


class NotifyStep(Wire, tag="notify_step"):
    """One contact method of one notify job, due at `due`.

    A channel worker splits a job into steps by the person's notification
    rules. `key` (`<job key>.<method>`) is the idempotency key of the
    delivery: a worker checks it before sending, so a redelivered step never
    rings a phone twice.
    """

    key: str
    job: NotifyJob
    method: str
    due: datetime


class NotifyResult(Wire, tag="notify_result"):
    """What happened to one delivery attempt, for the `notified` event.

    `channel` is the delivery method (`apprise`, `sms`, `voice`) and `method`
    the person's name for that contact method; `final` is False while a
    failed attempt will be retried. `reason` never holds a secret. `job`,
    `level` and `repeat` name the notify job, and `steps` how many contact
    methods its plan has: when every one has failed, the engine escalates.
    """

    key: str
    incident: int
    user: str | None
    channel: str
    method: str
    result: NotifyOutcome
    attempt: int
    at: datetime
    reason: str = ""
    final: bool = True
    job: str = ""
    level: int = 0
    repeat: int = 0
    steps: int = 0


# ---------------------------------------------------------------- codecs

encoder = msgspec.json.Encoder()
alert_decoder = msgspec.json.Decoder(AlertMessage)
event_decoder = msgspec.json.Decoder(Event)
command_decoder = msgspec.json.Decoder(Command)
reply_decoder = msgspec.json.Decoder(Reply)
query_decoder = msgspec.json.Decoder(Query)
query_reply_decoder = msgspec.json.Decoder(QueryReply)
notify_job_decoder = msgspec.json.Decoder(NotifyJob)
notify_step_decoder = msgspec.json.Decoder(NotifyStep)
notify_result_decoder = msgspec.json.Decoder(NotifyResult)


def encode(message: Wire) -> bytes:
    """Encode any wire message as JSON bytes."""
    return encoder.encode(message)


def event_subject(incident_id: int) -> str:
    """The EVENTS subject of one incident."""
    return f"{SUBJECT_EVENTS}.{incident_id}"


def severity_rank(severity: str) -> int:
    """0 for critical up to 3 for info; higher severity sorts first."""
    return SEVERITIES.index(severity)  # type: ignore[arg-type]
