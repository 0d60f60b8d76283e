"""Whatever arrives, every parser yields sound alerts or PayloadRejected, nothing else.

Three kinds of input: arbitrary bytes, arbitrary JSON, and each source's own
bodies with one value swapped for arbitrary JSON (which reaches far deeper
into a parser than random JSON does). An escaping exception would be a 500,
which senders retry forever.
"""

from __future__ import annotations

import json
import os
from datetime import UTC
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus import wire
from engine.gateway import MAX_MESSAGE
from engine.integrations import PARSERS, PayloadRejected
from tests.conftest import PAYLOADS
from tests.engine.integrations.cases import context_for

FAST = settings(
    max_examples=int(os.environ.get("WARROOM_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", "0", "1", "firing", "resolved", "OK", "{EVENT.ID}", "$ID"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def bodies(source: str) -> list[Any]:
    """The source's saved bodies that are valid JSON, decoded."""
    found = []
    for path in sorted((PAYLOADS / source).glob("*.json")):
        if not path.name.endswith(".expect.json"):
            try:
                found.append(json.loads(path.read_text(encoding="utf-8")))
            except ValueError:
                continue  # the deliberately truncated body
    return found


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a decoded body where a value can be swapped."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, (*prefix, i))
    return found


def swapped(body: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    copy = dict(body) if isinstance(body, dict) else list(body)
    copy[path[0]] = swapped(body[path[0]], path[1:], value)
    return copy


@st.composite
def mutated(draw, source: str) -> bytes:
    body = draw(st.sampled_from(bodies(source)))
    path = draw(st.sampled_from(paths(body)))
    return json.dumps(swapped(body, path, draw(JSON))).encode()


def check_outcome(source: str, body: bytes) -> None:
    context = context_for(source, {"timezone": "Asia/Shanghai"})
    try:
        alerts = PARSERS[source](body, context)
    except PayloadRejected as err:
        assert 400 <= err.status < 500 and err.problems
        assert all(isinstance(p, str) and len(p) < 2000 for p in err.problems)
        return
    for alert in alerts:
        check_sound(alert)


def check_sound(alert: wire.Alert) -> None:
    assert alert.dedup_key.strip()
    assert alert.severity in (*wire.SEVERITIES, None)
    assert alert.status in ("firing", "resolved")
    for at in (alert.starts_at, alert.ends_at):
        assert at is None or at.utcoffset() == UTC.utcoffset(None)
    assert len(wire.encode(alert)) < MAX_MESSAGE


@pytest.mark.parametrize("source", sorted(PARSERS))
@FAST
@given(body=st.binary(max_size=512))
def test_arbitrary_bytes(source, body):
    check_outcome(source, body)


@pytest.mark.parametrize("source", sorted(PARSERS))
@FAST
@given(value=JSON)
def test_arbitrary_json(source, value):
    check_outcome(source, json.dumps(value).encode())


@pytest.mark.parametrize("source", sorted(PARSERS))
@FAST
@given(data=st.data())
def test_source_bodies_with_one_value_swapped(source, data):
    check_outcome(source, data.draw(mutated(source)))


def test_every_source_of_the_shared_cases_has_a_parser_and_a_case():
    # A new folder of cases with no parser would otherwise go untested.
    sources = {p.name for p in PAYLOADS.iterdir() if p.is_dir()}
    assert sources <= set(PARSERS)
    assert all(bodies(source) for source in sources)
