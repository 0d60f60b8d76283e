"""warroom's own JSON for scripts: the shared cases, batches, keys."""

from __future__ import annotations

import json

import pytest

from engine.integrations.base import PayloadRejected
from tests.engine.integrations.cases import (
    cases,
    check,
    encoded,
    fixture,
    parse,
    rejection,
)


@pytest.mark.parametrize("case", cases("generic"))
def test_shared_case(case):
    check(case)


def problem(**changes) -> dict:
    return {**fixture("generic", "problem-epoch-seconds.json"), **changes}


def test_an_explicit_dedup_key_wins_over_the_composite():
    [alert] = parse("generic", encoded(problem(dedup_key="backup/orders")))
    assert alert.dedup_key == "backup/orders"


def test_a_batch_reports_every_bad_object_by_index():
    text = rejection("generic", encoded([problem(), problem(state="x"), 7]))
    assert "[1].state:" in text and "[2]: expected an object" in text


def test_empty_source_and_check_are_rejected_not_keyed_together():
    # "||host" for every script would merge unrelated checks.
    assert "check: source and check must not be empty" in rejection(
        "generic", encoded(problem(source="", check=" "))
    )


def test_null_text_fields_are_rejected_not_a_crash():
    assert "source and check must not be empty" in rejection(
        "generic", encoded(problem(source=None))
    )


@pytest.mark.parametrize(
    ("ts", "accepted"),
    [
        # The documented forms: epoch numbers and ISO-8601 with an offset.
        (1710036000, True),
        ("2024-03-10T11:42:17+05:30", True),
        ("2024-03-10T06:12:17Z", True),
        ("2024-03-10T06:12:17+0000", True),
        # A local time without its offset would be read as UTC: a silent
        # shift of hours for every script not running in UTC. Refused.
        ("2024-03-10T06:12:17", False),
        ("2024-03-10 06:12:17", False),
    ],
)
def test_an_iso_time_must_carry_its_offset(ts, accepted):
    body = {"source": "cron", "check": "backup", "state": "problem",
            "severity": "error", "summary": "s", "ts": ts}  # fmt: skip
    if accepted:
        assert parse("generic", json.dumps(body))[0].starts_at is not None
    else:
        with pytest.raises(PayloadRejected, match="needs its UTC offset"):
            parse("generic", json.dumps(body))
