"""The shared payload cases (`NAME.json` + `NAME.expect.json`), loaded and compared.

Comparison follows the cases' README: times as instants at microsecond
precision, `"<time of receipt>"` as the context's receipt time, a `null`
label as one that must be absent, and an expected acknowledge as absent
(warroom ignores a source's acknowledgment, see docs/integrations.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bus.wire import Alert
from engine.integrations import PARSERS, ParseContext, PayloadRejected
from tests.conftest import PAYLOADS

RECEIVED_AT = datetime(2024, 11, 5, 9, 30, tzinfo=UTC)
RECEIPT = "<time of receipt>"
# Free-text mentions of the expects, as the words a message must contain.
MENTIONS = {
    "position/line of the failure": ["line ", "column "],
    "event_id is empty / not a positive integer": ["event_id is"],
}


@dataclass(frozen=True)
class Case:
    """One saved body and what a correct parser extracts from it."""

    source: str
    name: str
    body: bytes
    expect: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.source}/{self.name}"


def cases(source: str) -> list[Any]:
    """Every shared case of a source, as pytest parameters named by file."""
    found = []
    for path in sorted((PAYLOADS / source).glob("*.expect.json")):
        expect = json.loads(path.read_text(encoding="utf-8"))
        body_path = path.with_name(expect.get("fixture") or _body_name(path))
        case = Case(source, body_path.name, body_path.read_bytes(), expect)
        found.append(pytest.param(case, id=body_path.stem))
    return found


def _body_name(path: Path) -> str:
    return path.name.replace(".expect.json", ".json")


def context_for(
    source: str,
    parser_config: dict | None = None,
    received_at: datetime = RECEIVED_AT,
) -> ParseContext:
    """A fresh context: the integration is named after the source."""
    config = parser_config or {}
    zone = config.get("zabbix_server_timezone") or config.get("timezone")
    return ParseContext(f"test-{source}", source, received_at, zone)


def parse(source: str, body: bytes | str, **context: Any) -> list[Alert]:
    """Run one source's parser on a body."""
    data = body.encode() if isinstance(body, str) else body
    return PARSERS[source](data, context_for(source, **context))


def run(case: Case) -> tuple[list[Alert] | None, PayloadRejected | None, ParseContext]:
    context = context_for(case.source, case.expect.get("parser_config"))
    try:
        return PARSERS[case.source](case.body, context), None, context
    except PayloadRejected as err:
        return None, err, context


def check(case: Case) -> None:
    """Assert that the parser does with the case what its expect says."""
    alerts, rejected, context = run(case)
    outcome = case.expect["outcome"]
    if outcome == "reject":
        assert rejected is not None, f"{case}: accepted, expected a rejection"
        check_rejection(case, rejected)
        return
    assert rejected is None, f"{case}: rejected: {rejected}"
    assert alerts is not None
    if outcome == "ignore":
        assert alerts == [], f"{case}: expected nothing, got {alerts}"
        assert context.notes, f"{case}: ignored without saying why"
        return
    wanted = [a for a in case.expect["alerts"] if a.get("action") != "acknowledge"]
    assert len(alerts) == len(wanted), f"{case}: {len(alerts)} alerts"
    for i, (alert, expected) in enumerate(zip(alerts, wanted, strict=True)):
        check_alert(alert, expected, f"{case} alert {i}")
        if "group_key" in case.expect:
            assert alert.group_key == case.expect["group_key"]
    if "same_dedup_key_as" in case.expect:
        assert alerts[0].dedup_key == _paired_key(case.expect["same_dedup_key_as"])


def check_rejection(case: Case, rejected: PayloadRejected) -> None:
    assert 400 <= rejected.status < 500
    assert rejected.problems and all(rejected.problems)
    message = "; ".join(rejected.problems)
    for mention in case.expect.get("error_should_mention", []):
        for words in MENTIONS.get(mention, [mention]):
            assert words in message, f"{case}: {words!r} not in {message!r}"


def check_alert(alert: Alert, expected: dict[str, Any], where: str) -> None:
    assert alert.status == expected["status"], where
    action = {"firing": "trigger", "resolved": "resolve"}[alert.status]
    assert expected.get("action", action) == action, where
    assert alert.dedup_key == expected["dedup_key"], where
    assert alert.severity == expected["severity"], where
    assert alert.title == expected["title"], where
    for name in ("starts_at", "ends_at"):
        assert getattr(alert, name) == instant(expected[name]), f"{where} {name}"
    labels = {**(expected.get("labels") or {}), **expected.get("extra_labels", {})}
    for name, value in labels.items():
        assert alert.labels.get(name) == value, f"{where} labels.{name}"
    if expected.get("no_data"):
        assert alert.labels.get("no_data") == "true", where
    if "recovery_event_id" in expected:
        got = alert.annotations.get("recovery_event_id")
        assert got == expected["recovery_event_id"], where


def instant(value: str | None) -> datetime | None:
    """An expected time: None, the receipt time, or an instant in UTC."""
    if value is None:
        return None
    if value == RECEIPT:
        return RECEIVED_AT
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _paired_key(reference: str) -> str:
    """`zabbix/problem.json alert 0` -> that alert's dedup key."""
    where, _, index = reference.partition(" alert ")
    source, name = where.split("/")
    expect_path = PAYLOADS / source / name.replace(".json", ".expect.json")
    expect = json.loads(expect_path.read_text(encoding="utf-8"))
    body = (PAYLOADS / source / name).read_bytes()
    alerts = parse(source, body, parser_config=expect.get("parser_config"))
    return alerts[int(index or 0)].dedup_key


def fixture(source: str, name: str) -> Any:
    """A shared body, decoded, to vary in a case of one's own."""
    return json.loads((PAYLOADS / source / name).read_text(encoding="utf-8"))


def encoded(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def rejection(source: str, body: bytes | str, **context: Any) -> str:
    """The problems of a body the parser must reject, as one text."""
    with pytest.raises(PayloadRejected) as raised:
        parse(source, body, **context)
    assert 400 <= raised.value.status < 500
    return "; ".join(raised.value.problems)
