"""The config check of contact methods, notification rules and chat rooms.

Every problem names the user and the method by its path; an address is a
secret and never appears in one.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.config import CONTACT_KINDS, Config, parse_clock, parse_duration

URGENCIES = ("high", "low")
_NUMBER = re.compile(r"^\+?[0-9][0-9 ()\-]{5,}$")
_METHOD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_THROTTLE = re.compile(r"^\s*(\d+)\s*/\s*(\S+)\s*$")
MAX_BUNDLE_WINDOW = 600.0  # a page in a bundle waits up to this long
MAX_THROTTLE_WINDOW = 86400.0  # how long the worker's bucket keeps send times


def parse_throttle(text: str) -> tuple[int, float] | None:
    """`3/15m` as (3, 900.0): pages per window; `off` as None."""
    if str(text).strip() == "off":
        return None
    found = _THROTTLE.match(str(text))
    if not found or int(found.group(1)) < 1:
        raise ValueError("expected COUNT/DURATION such as 3/15m, or off")
    per = parse_duration(found.group(2))
    if not 0 < per <= MAX_THROTTLE_WINDOW:
        raise ValueError("the window is more than 0s and at most 1d")
    return int(found.group(1)), per


def problems_of(config: Config) -> list[str]:
    """Every problem with how people and rooms are reached, by its path."""
    problems: list[str] = []
    urls: list[tuple[str, str]] = []  # (path, apprise URL)
    numbers = []
    for handle, user in config.users.items():
        for name, method in user.contact_methods.items():
            path = f"users.{handle}.contact_methods.{name}"
            problems.extend(_method_problems(path, name, method))
            if method.apprise:
                urls.append((f"{path}.apprise", method.apprise))
            elif method.kind:
                numbers.append(path)
        problems.extend(_rule_problems(handle, user))
        problems.extend(_quiet_problems(handle, user.quiet_hours))
    for name, team in config.teams.items():
        if team.chat_room:
            urls.append((f"teams.{name}.chat_room", team.chat_room))
    if numbers and config.plivo is None:
        problems.append(
            f"plivo: missing ({numbers[0]} sends SMS or calls through Plivo)"
        )
    if config.plivo and not _NUMBER.match(config.plivo.number):
        problems.append("plivo.number: expected a phone number such as +15550100")
    problems.extend(_window_problems(config.notify.bundle_window))
    problems.extend(_unloadable(urls))
    return problems


def _window_problems(window: str) -> list[str]:
    try:
        seconds = parse_duration(window)
    except ValueError as err:
        return [f"notify.bundle_window: {err}"]
    if seconds > MAX_BUNDLE_WINDOW:
        return ["notify.bundle_window: at most 10m (pages wait this long)"]
    return []


def _method_problems(path: str, name: str, method) -> list[str]:
    if not _METHOD.match(name):
        return [f"{path}: names are letters, digits, - and _"]
    given = [k for k in CONTACT_KINDS if getattr(method, k) is not None]
    if len(given) != 1:
        return [f"{path}: expected exactly one of apprise, sms or voice"]
    if method.kind in ("sms", "voice") and not _NUMBER.match(method.address):
        return [f"{path}.{method.kind}: expected a phone number such as +15550100"]
    if method.throttle is not None:
        try:
            parse_throttle(method.throttle)
        except ValueError as err:
            return [f"{path}.throttle: {err}"]
    return []


def _rule_problems(handle: str, user) -> list[str]:
    problems = []
    for urgency, rules in user.notification_rules.items():
        path = f"users.{handle}.notification_rules.{urgency}"
        if urgency not in URGENCIES:
            problems.append(f"{path}: expected urgency high or low")
        for i, rule in enumerate(rules):
            if rule.method not in user.contact_methods:
                problems.append(
                    f"{path}[{i}].method: unknown contact method {rule.method!r}"
                )
            try:
                parse_duration(rule.delay)
            except ValueError as err:
                problems.append(f"{path}[{i}].delay: {err}")
    return problems


def _quiet_problems(handle: str, quiet) -> list[str]:
    if quiet is None:
        return []
    path = f"users.{handle}.quiet_hours"
    problems, clocks = [], []
    for key, value in (("from", quiet.start), ("to", quiet.end)):
        try:
            clocks.append(parse_clock(value))
        except ValueError as err:
            problems.append(f"{path}.{key}: {err}")
    if len(clocks) == 2 and clocks[0] == clocks[1]:
        problems.append(f"{path}: from and to are the same time")
    try:
        ZoneInfo(quiet.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{path}.timezone: unknown time zone {quiet.timezone!r}")
    return problems


def _unloadable(urls: list[tuple[str, str]]) -> list[str]:
    if not urls:
        return []
    import apprise  # a second to import: only for configs that use it

    return [
        f"{path}: apprise cannot load this URL (not shown: it holds a secret)"
        for path, url in urls
        if not apprise.Apprise().add(url)
    ]
