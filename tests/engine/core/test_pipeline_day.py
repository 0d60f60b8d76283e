"""A day of alerts through the whole pipeline with a fake clock.

The day mixes a noisy repeat, a maintenance window, a flapping alert, a
silence, a storm, an inhibition, a late message and a reopen; the number of
pages is counted by hand, stage by stage, in `EXPECTED_PAGES`.
"""

from __future__ import annotations

import time as stopwatch
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bus.wire import Alert
from engine.core.matchers import parse_matcher
from engine.core.policy import (
    GroupRule,
    InhibitRule,
    MaintenanceWindow,
    ServiceNoise,
    StormRule,
)
from tests.engine.core.driver import Run, policy

DAY = datetime(2026, 3, 10, tzinfo=UTC)  # a Tuesday; Berlin is UTC+1

EXPECTED_PAGES = {
    "cpu: opened at 00:00, severity raised at 12:00": 2,
    "disk: opened at 00:30": 1,
    "backup: held by maintenance at 01:30, released when it ends at 02:00": 1,
    "vacuum: held by maintenance, recovered inside it": 0,
    "flappy: opened 03:10, reopened 03:20, muted, opened again 07:00": 3,
    "w1: silenced, recovered before the silence ended": 0,
    "w2: silenced at 10:30, released when the silence ends at 11:00": 1,
    "w3: critical, not matched by the warning|info silence": 1,
    "storm: 200 hosts in a minute at 14:00, one storm page": 1,
    "dcdown: opened at 16:00": 1,
    "t0-t29: inhibited by dcdown; ten still fire when it recovers": 1,
    "ta: another data centre, not inhibited": 1,
    "late: opened at 18:00; its older firing after the recovery does nothing": 1,
    "y: opened 20:00, reopened 20:20, new incident at 23:00": 3,
}


def hm(hours: int, minutes: float = 0) -> datetime:
    return DAY + timedelta(hours=hours, minutes=minutes)


def fire(key: str, service: str = "db", status: str = "firing", **fields) -> Alert:
    labels = {"service": service, "alertname": fields.pop("name", key)}
    labels.update(fields.pop("labels", {}))
    fields.setdefault("severity", "warning")
    return Alert(
        integration="prom", source="alertmanager", dedup_key=key, status=status,
        title=key, labels=labels, **fields,
    )  # fmt: skip


def recover(key: str, service: str = "db", **fields) -> Alert:
    return fire(key, service, "resolved", **fields)


def day_policy():
    backups = MaintenanceWindow(
        frozenset(range(7)), time(2, 0), time(3, 0), ZoneInfo("Europe/Berlin")
    )
    dc_down = InhibitRule(
        source=(parse_matcher("alertname=DatacenterDown"),),
        target=(parse_matcher("severity=~warning|error"),),
        equal=("dc",),
        name="inhibit_rules[0]",
    )
    return policy(
        groups=(
            GroupRule(group_by=("alertname",)),
            GroupRule(group_by=("host",), group_wait=30),
        ),
        storm=StormRule(threshold=20),
        services={"db": ServiceNoise(maintenance=(backups,))},
        inhibit_rules=(dc_down,),
    )


def schedule() -> list[tuple[datetime, Alert]]:
    """Every arrival of the day, by time."""
    day: list[tuple[datetime, Alert]] = []
    for i in range(24 * 120):  # cpu repeats every 30 s, critical from noon
        severity = "critical" if i >= 12 * 120 else "warning"
        day.append((hm(0, i / 2), fire("cpu", severity=severity)))
    day += [(hm(0, 30), fire("disk")), (hm(0, 50), recover("disk"))]
    day += [(hm(1, 10), fire("vacuum")), (hm(1, 20), recover("vacuum"))]
    day += [(hm(1, 30), fire("backup")), (hm(2, 30), recover("backup"))]
    for minute in (10, 20, 30, 40):
        day += [(hm(3, minute), fire("flappy"))]
        day += [(hm(3, minute + 5), recover("flappy"))]
    day += [(hm(7), fire("flappy")), (hm(7, 10), recover("flappy"))]
    day += _silenced_web() + _storm() + _inhibition()
    late = fire("late", starts_at=hm(18))
    day += [(hm(18), late), (hm(18, 10), recover("late", ends_at=hm(18, 10)))]
    day += [(hm(18, 12), late)]
    for start, end in ((hm(20), hm(20, 5)), (hm(20, 20), hm(20, 25))):
        day += [(start, fire("y")), (end, recover("y"))]
    day += [(hm(23), fire("y"))]
    return sorted(day, key=lambda pair: pair[0])


def _web(key: str, host: str, **fields) -> Alert:
    return fire(key, "web", labels={"host": host}, **fields)


def _silenced_web() -> list[tuple[datetime, Alert]]:
    w3 = _web("w3", "c", severity="critical")
    return [
        (hm(9, 30), _web("w1", "a")), (hm(10), recover("w1", "web")),
        (hm(10, 30), _web("w2", "b")), (hm(11, 30), recover("w2", "web")),
        (hm(9, 45), w3), (hm(10, 15), recover("w3", "web")),
    ]  # fmt: skip


def _storm() -> list[tuple[datetime, Alert]]:
    arrivals = [(hm(14, i * 0.005), _web(f"s{i}", f"s{i}")) for i in range(200)]
    return arrivals + [(hm(15), recover(f"s{i}", "web")) for i in range(200)]


def _inhibition() -> list[tuple[datetime, Alert]]:
    fra = {"dc": "fra"}
    day = [(hm(16), fire("dcdown", name="DatacenterDown", severity="critical",
                         labels=fra))]  # fmt: skip
    for i in range(30):
        day.append((hm(16, 1 + i), fire(f"t{i}", labels=fra)))
        ends = hm(16, 35) if i >= 10 else hm(17)
        day.append((ends, recover(f"t{i}", labels=fra)))
    day.append((hm(16, 5), fire("ta", labels={"dc": "ams"})))
    day.append((hm(16, 40), recover("dcdown", name="DatacenterDown", labels=fra)))
    return day


def test_a_day_of_alerts_pages_as_counted_by_hand():
    run = Run(day_policy())
    run.now = DAY
    arrivals = schedule()
    started = stopwatch.perf_counter()
    for when, arrival in arrivals:
        if when >= hm(9) and not run.state.noise.next_silence_id > 1:
            run.silence(["service=web", "severity=~warning|info"], 120, when=hm(9))
        run.send(arrival, when=when)
    run.until(hm(24))
    elapsed = stopwatch.perf_counter() - started
    assert len(run.pages) == sum(EXPECTED_PAGES.values()) == 17
    assert Counter(run.reasons()) == {
        "opened": 10, "severity_raised": 1, "maintenance_ended": 1, "reopened": 2,
        "silence_ended": 1, "storm": 1, "inhibition_ended": 1,
    }  # fmt: skip
    # Every alert that did not page says why: one reason per stage that held.
    reasons = Counter(reason for _, reason in run.suppressed())
    assert set(reasons) == {"maintenance", "flapping", "silenced", "storm", "inhibited"}
    # 2,880 cpu repeats, 400 storm arrivals and recoveries, 63 of the
    # inhibition, 30 others; all in under a second of wall time.
    assert (len(arrivals), elapsed < 1.0) == (3373, True)
