"""The store on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store.db import Changes, Store, redact_url, sqlite_url

T0 = datetime(2026, 3, 10, 6, 59, 58, 480215, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def store(db_url):
    opened = await Store.open(db_url)
    yield opened
    await opened.close()


def incident(id: int, state: str = "triggered", **extra) -> dict:
    row = {
        "id": id,
        "title": f"incident {id}",
        "severity": "critical",
        "state": state,
        "service": "db",
        "team": "database",
        "owner": None,
        "group_key": f"g{id}",
        "alert_count": 1,
        "created_at": T0,
        "acknowledged_at": None,
        "resolved_at": None,
        "close_reason": None,
        "last_event_id": id,
    }
    row.update(extra)
    return row


def alert(incident_id: int, key: str, **extra) -> dict:
    row = {
        "incident_id": incident_id,
        "integration": "prom",
        "dedup_key": key,
        "source": "alertmanager",
        "status": "firing",
        "severity": "critical",
        "title": "disk 99% 磁盘",
        "labels": {"host": "db-3"},
        "annotations": {},
        "starts_at": T0,
        "ends_at": None,
        "last_seen_at": T0,
        "count": 1,
    }
    row.update(extra)
    return row


def event(id: int, incident_id: int, type: str = "opened") -> dict:
    return {
        "id": id,
        "incident_id": incident_id,
        "type": type,
        "at": T0,
        "actor": "prom",
        "text": "x",
        "data": {"k": [1, 2]},
    }


async def test_a_batch_commits_and_reads_back_with_utc_times(store):
    await store.commit(
        Changes(
            new_incidents=[incident(1), incident(2)],
            new_alerts=[alert(1, "a"), alert(1, "b"), alert(2, "c")],
            events=[event(1, 1), event(2, 2)],
            cursors={"alerts_applied": 17},
        )
    )
    row, alerts = await store.incident(1)
    assert row["created_at"] == T0 and row["created_at"].tzinfo is not None
    assert {a["dedup_key"] for a in alerts} == {"a", "b"}
    assert alerts[0]["title"] == "disk 99% 磁盘"
    assert alerts[0]["labels"] == {"host": "db-3"}
    assert await store.cursor("alerts_applied") == 17
    assert await store.max_ids() == (2, 2)
    timeline = await store.timeline(1)
    assert timeline[0]["data"] == {"k": [1, 2]}


async def test_changed_rows_update_in_place(store):
    await store.commit(Changes(new_incidents=[incident(1)], new_alerts=[alert(1, "a")]))
    later = T0 + timedelta(minutes=5)
    await store.commit(
        Changes(
            changed_incidents=[
                incident(1, "resolved", resolved_at=later, close_reason="auto")
            ],
            changed_alerts=[alert(1, "a", status="resolved", ends_at=later, count=4)],
            cursors={"alerts_applied": 20},
        )
    )
    row, alerts = await store.incident(1)
    assert (row["state"], row["resolved_at"], row["close_reason"]) == (
        "resolved",
        later,
        "auto",
    )
    assert (alerts[0]["status"], alerts[0]["count"]) == ("resolved", 4)
    assert await store.cursor("alerts_applied") == 20
    assert await store.open_incidents() == ([], [])


async def test_open_incidents_and_states(store):
    await store.commit(
        Changes(
            new_incidents=[
                incident(1),
                incident(2, "acknowledged"),
                incident(3, "resolved"),
            ],
            new_alerts=[alert(1, "a"), alert(3, "z")],
        )
    )
    rows, alerts = await store.open_incidents()
    assert sorted(r["id"] for r in rows) == [1, 2]
    assert [a["dedup_key"] for a in alerts] == ["a"]
    assert [r["id"] for r in await store.incidents(("resolved",))] == [3]
    assert [r["id"] for r in await store.incidents(None)] == [3, 2, 1]


async def test_events_after_is_the_outbox_in_order(store):
    await store.commit(
        Changes(new_incidents=[incident(1)], events=[event(i, 1) for i in range(1, 6)])
    )
    assert [e["id"] for e in await store.events_after(2)] == [3, 4, 5]
    assert [e["id"] for e in await store.events_after(2, limit=2)] == [3, 4]


async def test_a_failed_transaction_leaves_nothing(store):
    await store.commit(Changes(new_incidents=[incident(1)]))
    with pytest.raises(Exception):  # noqa: B017 - the driver's own integrity error
        await store.commit(
            Changes(
                new_incidents=[incident(2), incident(1)], cursors={"alerts_applied": 9}
            )
        )
    assert await store.incident(2) is None
    assert await store.cursor("alerts_applied") == 0


async def test_epoch_survives_reopening(tmp_path):
    url = sqlite_url(tmp_path)
    first = await Store.open(url)
    epoch = await first.epoch()
    await first.close()
    second = await Store.open(url)
    assert await second.epoch() == epoch and len(epoch) == 12
    await second.close()


def test_redact_url_hides_the_password():
    assert "s3cret" not in redact_url("postgresql+asyncpg://warroom:s3cret@db:5432/w")


async def test_repeats_update_count_last_seen_and_annotations_only(store):
    await store.commit(Changes(new_incidents=[incident(1)], new_alerts=[alert(1, "a")]))
    later = T0 + timedelta(seconds=30, microseconds=7)
    repeat = {
        "incident_id": 1, "integration": "prom", "dedup_key": "a",
        "annotations": {"summary": "disk 97% 满"}, "last_seen_at": later, "count": 5,
    }  # fmt: skip
    await store.commit(Changes(repeated_alerts=[repeat]))
    _, alerts = await store.incident(1)
    assert alerts[0]["count"] == 5
    assert alerts[0]["last_seen_at"] == later
    assert alerts[0]["annotations"] == {"summary": "disk 97% 满"}
    assert alerts[0]["title"] == "disk 99% 磁盘"  # untouched


async def test_a_database_from_an_older_warroom_is_named_not_crashed_on(tmp_path):
    import sqlite3

    from store.db import StoreError

    path = tmp_path / "warroom.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE incidents (id INTEGER PRIMARY KEY, title TEXT)")
    old.commit()
    old.close()
    with pytest.raises(
        StoreError, match=r"older warroom \(missing incidents\.severity"
    ):
        await Store.open(sqlite_url(tmp_path))


async def test_sqlite_checkpoints_move_the_log_into_the_database(tmp_path):
    opened = await Store.open(sqlite_url(tmp_path))
    await opened.commit(Changes(new_incidents=[incident(i) for i in range(1, 200)]))
    wal = tmp_path / "warroom.db-wal"
    db = tmp_path / "warroom.db"
    before = db.stat().st_size
    # The commit path never checkpoints (wal_autocheckpoint=0): the rows sit
    # in the log until the engine's checkpoint copies them over.
    assert wal.stat().st_size > 0
    await opened.checkpoint()
    assert db.stat().st_size > before
    assert len(await opened.incidents(None)) == 199
    await opened.close()
