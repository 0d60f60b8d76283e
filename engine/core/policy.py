"""The core's view of the config: routing, grouping and the noise stages' rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, tzinfo

from engine.core.matchers import Matcher
from engine.core.routing import Router


@dataclass(frozen=True, slots=True)
class GroupRule:
    """How a route's alerts become incidents.

    `group_by` empty groups by service; `("...",)` groups by every label.
    `max_alerts` 0 means no limit; `group_wait` 0 pages at once.
    """

    group_by: tuple[str, ...] = ()
    window: float = 600.0
    group_wait: float = 0.0
    max_alerts: int = 0


@dataclass(frozen=True, slots=True)
class FlapRule:
    """`changes` state changes within `window` seconds mark an alert flapping.

    `changes` 0 turns flapping off. It stays muted until it has been stable
    for `mute` seconds.
    """

    changes: int = 4
    window: float = 3600.0
    mute: float = 7200.0


@dataclass(frozen=True, slots=True)
class StormRule:
    """Past `threshold` new alerts per minute a service is in a storm (0: off)."""

    threshold: int = 0


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A weekly window: `days` (0 is Monday), from `start` to `end` in `tz`.

    An `end` at or before `start` ends on the next day.
    """

    days: frozenset[int]
    start: time
    end: time
    tz: tzinfo
    name: str = ""


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """While a `source` alert fires, `target` alerts with `equal` labels hold."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class ServiceNoise:
    """One service's own noise rules; None takes the policy's default."""

    flapping: FlapRule | None = None
    storm: StormRule | None = None
    maintenance: tuple[MaintenanceWindow, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """What the core needs from the config.

    `groups` holds one GroupRule per route, in route order; alerts that match
    no route take `grouping`, or a rule with `group_window` when that is None.
    """

    router: Router
    group_window: float
    users: frozenset[str]
    groups: tuple[GroupRule | None, ...] = ()
    grouping: GroupRule | None = None
    reopen_window: float = 1800.0
    flapping: FlapRule | None = FlapRule()
    storm: StormRule = StormRule()
    services: dict[str, ServiceNoise] = field(default_factory=dict)
    inhibit_rules: tuple[InhibitRule, ...] = ()
    silence_warning: float = 600.0

    def group_rule(self, route: int | None) -> GroupRule:
        """The grouping of route number `route` (None: the default)."""
        if route is not None and route < len(self.groups) and self.groups[route]:
            return self.groups[route]  # type: ignore[return-value]
        return self.grouping or GroupRule(window=self.group_window)

    def flap_rule(self, service: str) -> FlapRule | None:
        own = self.services.get(service)
        return own.flapping if own and own.flapping else self.flapping

    def storm_rule(self, service: str) -> StormRule:
        own = self.services.get(service)
        return own.storm if own and own.storm else self.storm

    def maintenance(self, service: str) -> tuple[MaintenanceWindow, ...]:
        own = self.services.get(service)
        return own.maintenance if own else ()
