"""Dispatch: which service, and so which team, owns an alert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.core.matchers import Matcher, matches_all

if TYPE_CHECKING:
    from engine.core.step import Step


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an alert goes, and why: `reason` is shown on the timeline."""

    service: str
    team: str | None
    reason: str
    route: int | None = None  # the index of the route that matched


@dataclass(frozen=True, slots=True)
class Router:
    """Routes in order, then the alert's own `service` label, then defaults."""

    routes: tuple[tuple[tuple[Matcher, ...], str], ...]
    teams: dict[str, str]  # service -> team
    integration_services: dict[str, str]  # integration -> its default service
    default_service: str

    def route(self, integration: str, labels: dict[str, str]) -> Destination:
        """Find the service of an alert whose labels include `severity`."""
        for i, (matchers, service) in enumerate(self.routes):
            if matches_all(matchers, labels):
                text = ", ".join(str(m) for m in matchers) or "every alert"
                return self._to(service, f"route {i} ({text})", i)
        named = labels.get("service")
        if named in self.teams:
            return self._to(named, "service label")
        if integration in self.integration_services:
            return self._to(
                self.integration_services[integration], "integration default"
            )
        return self._to(self.default_service, "default service")

    def _to(self, service: str, reason: str, route: int | None = None) -> Destination:
        return Destination(service, self.teams.get(service), reason, route)


def stage(step: Step) -> None:
    """Pipeline stage: the alert's service, team and route."""
    step.destination = step.policy.router.route(step.alert.integration, step.labels)
    step.labels["service"] = step.destination.service
