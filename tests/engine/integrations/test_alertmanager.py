"""Alertmanager's webhook: the shared cases, then identity, recovery and text."""

from __future__ import annotations

import pytest

from engine.integrations.base import MAX_TEXT
from tests.engine.integrations.cases import (
    RECEIVED_AT,
    cases,
    check,
    encoded,
    fixture,
    instant,
    parse,
    rejection,
)


@pytest.mark.parametrize("case", cases("alertmanager"))
def test_shared_case(case):
    check(case)


def one(**changes) -> dict:
    """The single-alert fixture with its alert's fields changed."""
    body = fixture("alertmanager", "firing-single.json")
    body["alerts"][0].update(changes)
    return body


def test_without_fingerprint_the_key_comes_from_labels_not_annotations():
    # The firing and the resolved alert differ in annotations and status only,
    # so they are the same problem and must share one key.
    firing = one(fingerprint="")
    resolved = one(
        fingerprint="",
        status="resolved",
        endsAt="2024-03-10T07:30:00Z",
        annotations={"summary": "lag back to 2s"},
    )
    [a], [b] = (
        parse("alertmanager", encoded(firing)),
        parse("alertmanager", encoded(resolved)),
    )
    assert a.dedup_key == b.dedup_key
    assert b.status == "resolved"


def test_different_labels_without_fingerprint_get_different_keys():
    # Two replicas' alerts differ only in `instance`: two problems, two keys.
    other = one(fingerprint="")
    other["alerts"][0]["labels"] = {
        **other["alerts"][0]["labels"],
        "instance": "db-8:9187",
    }
    [a] = parse("alertmanager", encoded(one(fingerprint="")))
    [b] = parse("alertmanager", encoded(other))
    assert a.dedup_key != b.dedup_key


def test_an_alert_with_no_fingerprint_and_no_labels_is_rejected():
    # Nothing identifies it: a constant key would merge every such alert.
    body = fixture("alertmanager", "batch-mixed-firing-resolved.json")
    body["alerts"][2].update(fingerprint="", labels={})
    assert "alerts[2]: no fingerprint and no labels" in rejection(
        "alertmanager", encoded(body)
    )


def test_a_future_ends_at_on_a_firing_alert_is_not_an_end():
    # Alertmanager sets endsAt to a resolve-timeout hint (grafana/grafana#37461).
    [alert] = parse("alertmanager", encoded(one(endsAt="2099-01-01T00:00:00Z")))
    assert alert.status == "firing" and alert.ends_at is None


def test_a_resolved_alert_with_zero_ends_at_ends_when_received():
    # Go's zero time is "no end"; a recovery still ended, at the latest now.
    [alert] = parse(
        "alertmanager", encoded(one(status="resolved", endsAt="0001-01-01T00:00:00Z"))
    )
    assert alert.ends_at == RECEIVED_AT


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        # The path names the alert and the field, as the issue asks.
        ({"startsAt": "yesterday"}, "alerts[0].startsAt: not a time ('yesterday')"),
        ({"status": "pending"}, "alerts[0].status: expected 'firing' or 'resolved'"),
        # msgspec names the map but not the key whose value is wrong.
        ({"labels": {"severity": 3}}, "alerts[0].labels[...]: expected `str`"),
    ],
)
def test_bad_fields_are_named_by_their_path(changes, words):
    assert words in rejection("alertmanager", encoded(one(**changes)))


def test_a_body_that_is_not_an_object_is_rejected():
    assert "body: expected `object`, got `array`" in rejection("alertmanager", "[]")


def test_huge_annotations_are_bounded_not_rejected():
    # 900 KB of description fits the 1 MiB body limit: shortened, never refused.
    [alert] = parse(
        "alertmanager", encoded(one(annotations={"description": "x" * 900_000}))
    )
    assert len(alert.annotations["description"]) == MAX_TEXT
    assert alert.annotations["description"].endswith("…")


def test_unicode_and_control_characters_in_titles():
    # Chinese is kept as is; the NUL and the line break are not.
    [alert] = parse(
        "alertmanager",
        encoded(one(annotations={"summary": "磁盘使用率\x00超过\n90%"})),
    )
    assert alert.title == "磁盘使用率超过 90%"


def test_a_batch_of_a_hundred_yields_each_alert_in_order():
    body = fixture("alertmanager", "batch-mixed-firing-resolved.json")
    template = body["alerts"][2]
    body["alerts"] = [
        {**template, "fingerprint": f"fp{i}", "status": ("firing", "resolved")[i % 2]}
        for i in range(100)
    ]
    alerts = parse("alertmanager", encoded(body))
    assert [a.dedup_key for a in alerts] == [f"fp{i}" for i in range(100)]
    assert [a.status for a in alerts[:2]] == ["firing", "resolved"]
    assert alerts[1].ends_at == instant("2024-10-27T00:20:31.5Z")


def test_null_labels_or_annotations_are_read_as_none():
    # Hand-written senders write null for "none"; the fingerprint still identifies.
    [alert] = parse("alertmanager", encoded(one(annotations=None)))
    assert alert.annotations == {} and alert.title == "PostgresReplicationLagHigh"
    assert "alerts[0]: no fingerprint" in rejection(
        "alertmanager", encoded(one(fingerprint="", labels=None))
    )
