"""Label matchers in Alertmanager's syntax: `name=value`, `!=`, `=~` and `!~`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


class MatcherError(ValueError):
    """A matcher string that cannot be parsed."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """One condition on one label; a missing label reads as the empty string."""

    name: str
    op: str
    value: str
    pattern: re.Pattern[str] | None = None

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.name, "")
        match self.op:
            case "=":
                return actual == self.value
            case "!=":
                return actual != self.value
            case "=~":
                return self.pattern.fullmatch(actual) is not None  # type: ignore[union-attr]
            case _:
                return self.pattern.fullmatch(actual) is None  # type: ignore[union-attr]

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value}"


def parse_matcher(text: str) -> Matcher:
    """Parse `name=value`, `name!=value`, `name=~regex` or `name!~regex`."""
    found = _MATCHER.match(text)
    if not found:
        raise MatcherError(
            f"expected name=value, name!=value, name=~re or name!~re, got {text!r}"
        )
    name, op, value = found.groups()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    pattern = None
    if op in ("=~", "!~"):
        try:
            pattern = re.compile(value)
        except re.error as err:
            raise MatcherError(f"bad regular expression {value!r}: {err}") from err
    return Matcher(name, op, value, pattern)


def matches_all(matchers: tuple[Matcher, ...], labels: dict[str, str]) -> bool:
    """True when every matcher holds for `labels` (an empty list matches all)."""
    return all(m.matches(labels) for m in matchers)
