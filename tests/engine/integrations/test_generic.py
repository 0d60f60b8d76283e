"""warroom's own JSON for scripts: the shared cases, batches, keys."""

from __future__ import annotations

import pytest

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
