"""Label matchers in Alertmanager's syntax."""

import pytest

from engine.core.matchers import MatcherError, parse_matcher


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("service=db", {"service": "db"}, True),
        ("service=db", {"service": "dbx"}, False),
        # A missing label reads as "", so != matches it.
        ("env!=prod", {}, True),
        # Regexes are anchored at both ends, as in Alertmanager.
        ("service=~db|orders-db", {"service": "orders-db"}, True),
        ("service=~db", {"service": "orders-db"}, False),
        ("severity!~warning|info", {"severity": "critical"}, True),
        # Quoted values lose their quotes.
        ('team="dba"', {"team": "dba"}, True),
    ],
)
def test_matcher(text, labels, expected):
    assert parse_matcher(text).matches(labels) is expected


@pytest.mark.parametrize("text", ["service", "=db", "service=~(", "9x=1"])
def test_bad_matchers_are_named(text):
    with pytest.raises(MatcherError):
        parse_matcher(text)
