"""The store: SQLAlchemy async on SQLite (WAL) or PostgreSQL (asyncpg).

It deals in plain row dicts and knows nothing of the engine or the bus. A
batch of changes commits in one transaction with one statement per table:
batching commits is what turns 1,100 alerts/s (a statement each) into tens of
thousands.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import bindparam, delete, event, func, insert, inspect, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from store import schema

log = logging.getLogger(__name__)

OPEN_STATES = ("triggered", "acknowledged")
_INCIDENT_KEY = {"_id": "id"}
_ALERT_KEY = {
    "_incident_id": "incident_id",
    "_integration": "integration",
    "_dedup_key": "dedup_key",
}


class StoreError(Exception):
    """The database could not be opened or refused a write."""


@dataclass
class Changes:
    """Rows to write in one transaction."""

    new_incidents: list[dict[str, Any]] = field(default_factory=list)
    changed_incidents: list[dict[str, Any]] = field(default_factory=list)
    new_alerts: list[dict[str, Any]] = field(default_factory=list)
    changed_alerts: list[dict[str, Any]] = field(default_factory=list)
    repeated_alerts: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    orphans: list[dict[str, Any]] = field(default_factory=list)
    cursors: dict[str, int] = field(default_factory=dict)
    escalation_timers: list[dict[str, Any]] = field(default_factory=list)  # set
    cleared_timers: list[tuple[int, str]] = field(default_factory=list)
    notify_jobs: list[dict[str, Any]] = field(default_factory=list)  # the outbox
    new_overrides: list[dict[str, Any]] = field(default_factory=list)
    removed_overrides: list[int] = field(default_factory=list)
    silences: list[dict[str, Any]] = field(default_factory=list)  # new or changed


def sqlite_url(data_dir: str | Path) -> str:
    """The default store URL: a SQLite file in the data directory."""
    return f"sqlite+aiosqlite:///{Path(data_dir).resolve() / 'warroom.db'}"


def redact_url(url: str) -> str:
    """A database URL with its password replaced, for logs and errors."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is shown as its scheme only
        return url.split(":", 1)[0] + "://<secret>"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(
        "PRAGMA synchronous=NORMAL"
    )  # WAL + NORMAL: durable at checkpoint, no fsync per commit
    cursor.execute("PRAGMA busy_timeout=5000")
    # The engine checkpoints from a task of its own: a commit that had to
    # checkpoint took 100-160 ms and made escalation timers wait behind it.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class Store:
    """Persistence of incidents, alerts and the timeline."""

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self.engine = engine
        self.url = url
        # One write transaction at a time from this process. Two at once on
        # SQLite meant one waited in SQLite's busy handler, which sleeps in
        # growing steps: commits of 3.6 s under a page storm.
        self._writing = asyncio.Lock()

    @classmethod
    async def open(cls, url: str) -> Store:
        """Open (and create if needed) the database at `url`."""
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["pool_size"] = 5
        try:
            engine = create_async_engine(url, **kwargs)
        except (SQLAlchemyError, ImportError, ValueError) as err:
            raise StoreError(f"cannot use database {redact_url(url)}: {err}") from err
        if url.startswith("sqlite"):
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        store = cls(engine, url)
        await store._create()
        return store

    async def _create(self) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(schema.metadata.create_all)
                missing = await conn.run_sync(_missing_columns)
                if missing:
                    raise StoreError(
                        f"the database {redact_url(self.url)} was made by an older "
                        f"warroom (missing {', '.join(missing)}): move it aside and "
                        "start again, or migrate it"
                    )
                found = await conn.execute(
                    select(schema.cursors.c.text).where(
                        schema.cursors.c.name == "epoch"
                    )
                )
                if found.first() is None:
                    await conn.execute(
                        insert(schema.cursors),
                        [{"name": "epoch", "value": 0, "text": secrets.token_hex(6)}],
                    )
        except (SQLAlchemyError, OSError) as err:
            raise StoreError(
                f"cannot open database {redact_url(self.url)}: {_reason(err)}"
            ) from err

    async def close(self) -> None:
        await self.engine.dispose()

    @property
    def checkpoints_needed(self) -> bool:
        """SQLite leaves its write-ahead log to the engine to checkpoint."""
        return self.engine.dialect.name == "sqlite"

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the database without blocking writers."""
        if self.checkpoints_needed:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    async def commit(self, changes: Changes) -> None:
        """Write every change in one transaction."""
        async with self._writing, self.engine.begin() as conn:
            if changes.new_incidents:
                await conn.execute(insert(schema.incidents), changes.new_incidents)
            if changes.changed_incidents:
                await conn.execute(
                    _update(schema.incidents, _INCIDENT_KEY),
                    _keyed(changes.changed_incidents, _INCIDENT_KEY),
                )
            if changes.new_alerts:
                await conn.execute(insert(schema.alerts), changes.new_alerts)
            if changes.changed_alerts:
                await conn.execute(
                    _update(schema.alerts, _ALERT_KEY),
                    _keyed(changes.changed_alerts, _ALERT_KEY),
                )
            if changes.repeated_alerts:
                await self._write_repeats(conn, changes.repeated_alerts)
            if changes.events:
                await conn.execute(insert(schema.timeline), changes.events)
            if changes.orphans:
                await conn.execute(insert(schema.orphans), changes.orphans)
            for name, value in changes.cursors.items():
                await self._set_cursor(conn, name, value)
            await self._write_escalation(conn, changes)
            for row in changes.silences:
                await self._put_silence(conn, row)

    async def _write_repeats(self, conn, rows: list[dict[str, Any]]) -> None:
        """Count, last seen and annotations of repeated alerts, straight to the driver.

        Repeats are most of a storm's writes; skipping SQLAlchemy's per-row
        parameter processing makes each about 3x cheaper (32 -> 11 us a row on
        SQLite). Values are encoded here as SQLAlchemy would store them.
        """
        dialect = self.engine.dialect
        marks = (
            ["?"] * 6
            if dialect.paramstyle == "qmark"
            else [f"${i}" for i in range(1, 7)]
        )
        sql = (
            f"UPDATE alerts SET count = {marks[0]}, last_seen_at = {marks[1]}, "
            f"annotations = {marks[2]} WHERE incident_id = {marks[3]} "
            f"AND integration = {marks[4]} AND dedup_key = {marks[5]}"
        )
        naive = dialect.name == "sqlite"
        params = [
            (
                row["count"],
                _driver_time(row["last_seen_at"], naive),
                msgspec.json.encode(row["annotations"]).decode(),
                row["incident_id"],
                row["integration"],
                row["dedup_key"],
            )
            for row in rows
        ]
        await conn.exec_driver_sql(sql, params)

    async def _set_cursor(self, conn, name: str, value: int) -> None:
        table = schema.cursors
        result = await conn.execute(
            update(table).where(table.c.name == name).values(value=value)
        )
        if result.rowcount == 0:
            await conn.execute(insert(table), [{"name": name, "value": value}])

    async def _put_silence(self, conn, row: dict[str, Any]) -> None:
        table = schema.silences
        result = await conn.execute(
            update(table).where(table.c.id == row["id"]).values(**row)
        )
        if result.rowcount == 0:
            await conn.execute(insert(table), [row])

    async def silences(self, active_at=None, limit: int = 500) -> list[dict]:
        """Silences newest first; only those not ended at `active_at` if given."""
        table = schema.silences
        query = select(table).order_by(table.c.id.desc()).limit(limit)
        if active_at is not None:
            query = query.where(table.c.ends_at > active_at)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [dict(r) for r in rows]

    async def max_silence_id(self) -> int:
        """The highest silence id stored, 0 when none."""
        async with self.engine.connect() as conn:
            found = await conn.scalar(select(func.max(schema.silences.c.id)))
        return int(found or 0)

    async def _write_escalation(self, conn, changes: Changes) -> None:
        timers = schema.escalation_timers
        keys = changes.cleared_timers + [
            (row["incident_id"], row["kind"]) for row in changes.escalation_timers
        ]
        for incident_id, kind in keys:
            await conn.execute(
                delete(timers).where(
                    timers.c.incident_id == incident_id, timers.c.kind == kind
                )
            )
        if changes.escalation_timers:
            await conn.execute(insert(timers), changes.escalation_timers)
        if changes.notify_jobs:
            await conn.execute(insert(schema.notify_outbox), changes.notify_jobs)
        if changes.new_overrides:
            await conn.execute(insert(schema.overrides), changes.new_overrides)
        if changes.removed_overrides:
            table = schema.overrides
            await conn.execute(
                delete(table).where(table.c.id.in_(changes.removed_overrides))
            )

    async def escalation_timers(self) -> list[dict]:
        """Every stored escalation timer, soonest first (paused ones last)."""
        table = schema.escalation_timers
        return await self._rows(select(table).order_by(table.c.due_at))

    async def overrides(self) -> list[dict]:
        """Every stored override, oldest first."""
        return await self._rows(
            select(schema.overrides).order_by(schema.overrides.c.id)
        )

    async def notify_outbox(self, limit: int = 1000) -> list[dict]:
        """Notify jobs committed but not yet accepted by the bus, oldest first."""
        table = schema.notify_outbox
        query = select(table).order_by(table.c.created_at, table.c.key).limit(limit)
        return await self._rows(query)

    async def drop_notify(self, keys: list[str]) -> None:
        """Forget notify jobs the bus has accepted."""
        table = schema.notify_outbox
        async with self._writing, self.engine.begin() as conn:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                await conn.execute(delete(table).where(table.c.key.in_(chunk)))

    async def _rows(self, query) -> list[dict]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [dict(r) for r in rows]

    async def cursor(self, name: str) -> int:
        """A named position, 0 when never set."""
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                select(schema.cursors.c.value).where(schema.cursors.c.name == name)
            )
        return int(found or 0)

    async def epoch(self) -> str:
        """A random id of this database, fixed at creation."""
        async with self.engine.connect() as conn:
            return await conn.scalar(
                select(schema.cursors.c.text).where(schema.cursors.c.name == "epoch")
            )

    async def max_ids(self) -> tuple[int, int]:
        """The highest incident id and event id stored."""
        async with self.engine.connect() as conn:
            incident = await conn.scalar(select(func.max(schema.incidents.c.id)))
            event_id = await conn.scalar(select(func.max(schema.timeline.c.id)))
        return int(incident or 0), int(event_id or 0)

    async def open_incidents(self) -> tuple[list[dict], list[dict]]:
        """Every open incident and the alerts they hold."""
        inc = schema.incidents
        async with self.engine.connect() as conn:
            rows = (
                (await conn.execute(select(inc).where(inc.c.state.in_(OPEN_STATES))))
                .mappings()
                .all()
            )
            ids = [row["id"] for row in rows]
            alerts = []
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                alerts.extend(
                    (
                        await conn.execute(
                            select(schema.alerts).where(
                                schema.alerts.c.incident_id.in_(chunk)
                            )
                        )
                    )
                    .mappings()
                    .all()
                )
        return [dict(r) for r in rows], [dict(a) for a in alerts]

    async def incident(self, incident_id: int) -> tuple[dict, list[dict]] | None:
        """One incident and its alerts, or None."""
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(schema.incidents).where(
                            schema.incidents.c.id == incident_id
                        )
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            alerts = (await conn.execute(
                select(schema.alerts).where(schema.alerts.c.incident_id == incident_id)
                .order_by(schema.alerts.c.starts_at, schema.alerts.c.dedup_key)
            )).mappings().all()  # fmt: skip
        return dict(row), [dict(a) for a in alerts]

    async def timeline(self, incident_id: int) -> list[dict]:
        """The events of one incident, oldest first."""
        tl = schema.timeline
        async with self.engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        select(tl)
                        .where(tl.c.incident_id == incident_id)
                        .order_by(tl.c.id)
                    )
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    async def events_after(self, event_id: int, limit: int = 1000) -> list[dict]:
        """Events with ids above `event_id`, oldest first: the publish outbox."""
        tl = schema.timeline
        async with self.engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        select(tl)
                        .where(tl.c.id > event_id)
                        .order_by(tl.c.id)
                        .limit(limit)
                    )
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    async def incidents(
        self, states: tuple[str, ...] | None, limit: int = 500
    ) -> list[dict]:
        """Incidents in `states` (all when None), newest first."""
        inc = schema.incidents
        query = select(inc).order_by(inc.c.id.desc()).limit(limit)
        if states is not None:
            query = query.where(inc.c.state.in_(states))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [dict(r) for r in rows]

    async def orphans(self, limit: int = 100) -> list[dict]:
        """The most recent orphan recoveries."""
        orph = schema.orphans
        async with self.engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        select(orph).order_by(orph.c.id.desc()).limit(limit)
                    )
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]


def _missing_columns(conn) -> list[str]:
    """Columns the tables lack: `create_all` adds tables, never columns."""
    inspector = inspect(conn)
    missing = []
    for table in schema.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing.extend(
            f"{table.name}.{c.name}" for c in table.columns if c.name not in present
        )
    return missing


def _driver_time(value: datetime, naive: bool):
    """A time as the driver takes it: SQLite's text form of UTC, else aware."""
    value = value.astimezone(UTC)
    if naive:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _update(table, key: dict[str, str]):
    where = [table.c[column] == bindparam(param) for param, column in key.items()]
    return update(table).where(*where)


def _keyed(rows: list[dict], key: dict[str, str]) -> list[dict]:
    return [
        {**row, **{param: row[column] for param, column in key.items()}} for row in rows
    ]


def _reason(err: Exception) -> str:
    original = getattr(err, "orig", None)
    return str(original or err).splitlines()[0]
