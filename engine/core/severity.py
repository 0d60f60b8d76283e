"""Severity: the four levels every source is normalized to, and their order."""

from __future__ import annotations

SEVERITIES = ("critical", "error", "warning", "info")
DEFAULT_SEVERITY = "error"  # fail-safe: an alert with no severity still pages

_ALIASES = {
    **dict.fromkeys(
        ("critical", "crit", "fatal", "disaster", "emergency", "page", "p1"), "critical"
    ),
    **dict.fromkeys(("error", "err", "high", "major", "p2"), "error"),
    **dict.fromkeys(("warning", "warn", "average", "medium", "minor", "p3"), "warning"),
    **dict.fromkeys(
        ("info", "informational", "notice", "low", "none", "debug", "p4", "p5"), "info"
    ),
}


def normalize(value: object) -> str:
    """Map a source's severity word to one of the four; unknown words are errors."""
    if not isinstance(value, str):
        return DEFAULT_SEVERITY
    return _ALIASES.get(value.strip().lower(), DEFAULT_SEVERITY)


def rank(severity: str) -> int:
    """0 for critical up to 3 for info: lower ranks are more severe."""
    return SEVERITIES.index(severity)


def highest(severities) -> str:
    """The most severe of `severities`, or the default when there are none."""
    return min(severities, key=rank, default=DEFAULT_SEVERITY)
