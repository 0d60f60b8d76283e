"""The noise sections of the config, checked by path and compiled for the core.

`grouping` and each route's own grouping, `flapping` and `storm` (defaults,
overridden per service), each service's `maintenance` windows,
`inhibit_rules` and `silences`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.config import WEEKDAYS, Config, parse_clock, parse_duration
from engine.core import policy as rules
from engine.core.matchers import MatcherError, parse_matcher


def problems_of(config: Config) -> list[str]:
    """Every problem of the noise sections, named by its path."""
    return list(_problems(config))


def _problems(config: Config) -> Iterator[str]:
    g = config.grouping
    yield from _durations(
        ("grouping.group_wait", g.group_wait),
        ("grouping.reopen_window", g.reopen_window),
        ("silences.warn_before", config.silences.warn_before),
    )
    if g.max_alerts < 0:
        yield "grouping.max_alerts: expected 0 (no limit) or more"
    for i, route in enumerate(config.routes):
        yield from _durations(
            (f"routes[{i}].group_wait", route.group_wait),
            (f"routes[{i}].group_window", route.group_window),
        )
        if route.max_alerts is not None and route.max_alerts < 0:
            yield f"routes[{i}].max_alerts: expected 0 (no limit) or more"
    yield from _flapping("flapping", config.flapping)
    yield from _storm("storm", config.storm)
    for name, service in config.services.items():
        yield from _flapping(f"services.{name}.flapping", service.flapping)
        yield from _storm(f"services.{name}.storm", service.storm)
        for i, window in enumerate(service.maintenance):
            yield from _maintenance(f"services.{name}.maintenance[{i}]", window)
    for i, rule in enumerate(config.inhibit_rules):
        yield from _inhibit(f"inhibit_rules[{i}]", rule)


def _durations(*pairs: tuple[str, str | None]) -> Iterator[str]:
    for path, text in pairs:
        if text is None:
            continue
        try:
            parse_duration(text)
        except ValueError as err:
            yield f"{path}: {err}"


def _flapping(path: str, flapping) -> Iterator[str]:
    if flapping is None:
        return
    if flapping.changes < 2:
        yield f"{path}.changes: expected 2 or more"
    yield from _durations((f"{path}.window", flapping.window))
    yield from _durations((f"{path}.mute", flapping.mute))


def _storm(path: str, storm) -> Iterator[str]:
    if storm is not None and storm.threshold < 0:
        yield f"{path}.threshold: expected 0 (off) or more"


def _maintenance(path: str, window) -> Iterator[str]:
    for d, day in enumerate(window.days):
        if day not in WEEKDAYS:
            yield f"{path}.days[{d}]: expected one of {', '.join(WEEKDAYS)}"
    for key, value in (("from", window.start), ("to", window.end)):
        try:
            parse_clock(value)
        except ValueError as err:
            yield f"{path}.{key}: {err}"
    try:
        ZoneInfo(window.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        yield f"{path}.timezone: unknown time zone {window.timezone!r}"


def _inhibit(path: str, rule) -> Iterator[str]:
    if not rule.source:
        yield f"{path}.source: an inhibit rule needs source matchers"
    if not rule.target:
        yield f"{path}.target: an inhibit rule needs target matchers"
    for side in ("source", "target"):
        for j, text in enumerate(getattr(rule, side)):
            try:
                parse_matcher(text)
            except MatcherError as err:
                yield f"{path}.{side}[{j}]: {err}"


# ---------------------------------------------------------------- compiling


def policy_rules(config: Config) -> dict[str, Any]:
    """The noise part of the core's Policy, from a validated config."""
    return {
        "groups": tuple(_route_group(config, route) for route in config.routes),
        "grouping": _group(config.grouping),
        "reopen_window": parse_duration(config.grouping.reopen_window),
        "flapping": _flap(config.flapping),
        "storm": rules.StormRule(config.storm.threshold),
        "services": {n: _service(s) for n, s in config.services.items()},
        "inhibit_rules": tuple(
            _inhibit_rule(i, r) for i, r in enumerate(config.inhibit_rules)
        ),
        "silence_warning": parse_duration(config.silences.warn_before),
    }


def _group(g) -> rules.GroupRule:
    return rules.GroupRule(
        group_by=tuple(g.group_by),
        window=parse_duration(g.window),
        group_wait=parse_duration(g.group_wait),
        max_alerts=g.max_alerts,
    )


def _route_group(config: Config, route) -> rules.GroupRule:
    base = _group(config.grouping)
    return rules.GroupRule(
        group_by=tuple(_own(route.group_by, base.group_by)),
        window=parse_duration(route.group_window)
        if route.group_window
        else base.window,
        group_wait=(
            parse_duration(route.group_wait) if route.group_wait else base.group_wait
        ),
        max_alerts=_own(route.max_alerts, base.max_alerts),
    )


def _own(own, default):
    return default if own is None else own


def _flap(flapping) -> rules.FlapRule | None:
    if flapping is None:
        return None
    if not flapping.enabled:
        return rules.FlapRule(changes=0)  # off, even where the default is on
    return rules.FlapRule(
        flapping.changes, parse_duration(flapping.window), parse_duration(flapping.mute)
    )


def _service(service) -> rules.ServiceNoise:
    return rules.ServiceNoise(
        flapping=_flap(service.flapping),
        storm=rules.StormRule(service.storm.threshold) if service.storm else None,
        maintenance=tuple(_window(w) for w in service.maintenance),
    )


def _window(window) -> rules.MaintenanceWindow:
    return rules.MaintenanceWindow(
        days=frozenset(WEEKDAYS.index(d) for d in window.days),
        start=parse_clock(window.start),
        end=parse_clock(window.end),
        tz=ZoneInfo(window.timezone),
        name=window.name,
    )


def _inhibit_rule(i: int, rule) -> rules.InhibitRule:
    return rules.InhibitRule(
        source=tuple(parse_matcher(m) for m in rule.source),
        target=tuple(parse_matcher(m) for m in rule.target),
        equal=tuple(rule.equal),
        name=f"inhibit_rules[{i}]",
    )
