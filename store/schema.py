"""Tables of the store: incidents, their alerts, the timeline and cursors."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

incidents = Table(
    "incidents",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("title", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("service", String(128)),
    Column("team", String(128)),
    Column("owner", String(128)),
    Column("group_key", Text),
    Column("alert_count", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("close_reason", String(16)),
    Column("last_event_id", BigInteger, nullable=False),
    Column("paged", Boolean, nullable=False, default=False),
    Column("page_due", UTCDateTime),  # group_wait still holds the first page
    Index("ix_incidents_state", "state"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("incident_id", BigInteger, primary_key=True),
    Column("integration", String(128), primary_key=True),
    Column("dedup_key", String(255), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("starts_at", UTCDateTime),
    Column("ends_at", UTCDateTime),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("count", Integer, nullable=False),
    Column("paged", Boolean, nullable=False, default=False),
    Column("hold", JSON),  # the stage that held it back from paging, and why
    Index("ix_alerts_key", "integration", "dedup_key"),
)

# Append-only: rows are inserted, never updated or deleted.
timeline = Table(
    "timeline",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("incident_id", BigInteger, nullable=False),
    Column("type", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("text", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_timeline_incident", "incident_id", "id"),
)

# Resolutions for alerts nobody had seen fire: recorded, never an incident.
orphans = Table(
    "orphans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("integration", String(128), nullable=False),
    Column("dedup_key", String(255), nullable=False),
    Column("title", Text),
    Column("received_at", UTCDateTime, nullable=False),
)

# Named positions: the last ALERTS sequence applied, the last event published.
cursors = Table(
    "cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("text", String(64)),
)

# Run-time silences: matchers and a window, with who made them and why.
silences = Table(
    "silences",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("matchers", JSON, nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("comment", Text, nullable=False),
    Column("expired_by", String(128)),
    Index("ix_silences_ends_at", "ends_at"),
)

# Where each incident stands in its escalation, and its ack-timeout and
# snooze clocks: one row per (incident, kind), written with the step's events.
escalation_timers = Table(
    "escalation_timers",
    metadata,
    Column("incident_id", BigInteger, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("due_at", UTCDateTime),  # null: a paused or exhausted escalation
    Column("policy", String(128), nullable=False),
    Column("level", Integer, nullable=False),
    Column("repeat", Integer, nullable=False),
)

# Run-time overrides of schedules; the engine assigns their ids.
overrides = Table(
    "overrides",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("schedule", String(128), nullable=False),
    Column("user", String(128), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("author", String(128), nullable=False),
    Column("replacing", String(128)),
    Column("created_at", UTCDateTime, nullable=False),
)

# Notify jobs committed with their step and not yet accepted by the bus: the
# outbox that makes a crash between commit and publish re-send, not lose.
notify_outbox = Table(
    "notify_outbox",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
