"""The noise sections of the config: every problem named by its path."""

from __future__ import annotations

import pytest

from engine import noise
from engine.config import ConfigError, parse_config

BASE = """
teams: {db: {members: [alice]}}
users: {alice: {name: A}}
services:
  orders:
    team: db
    flapping: {changes: 1}
    storm: {threshold: -1}
    maintenance:
      - {days: [sat, funday], from: "25:00", to: "04:00", timezone: Mars/Base}
routes:
  - {match: ['service=orders'], service: orders, group_wait: soon, max_alerts: -2}
grouping: {reopen_window: forever}
inhibit_rules:
  - {source: ['alertname=~('], target: []}
silences: {warn_before: 10x}
default_service: orders
"""


def test_every_noise_problem_is_named_by_its_path():
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE, "t.yaml", kinds={"generic"})
    problems = caught.value.problems
    # One line per broken field, in the order of the file's sections.
    assert [p.split(":")[0] for p in problems] == [
        "grouping.reopen_window",
        "silences.warn_before",
        "routes[0].group_wait",
        "routes[0].max_alerts",
        "services.orders.flapping.changes",
        "services.orders.storm.threshold",
        "services.orders.maintenance[0].days[1]",
        "services.orders.maintenance[0].from",
        "services.orders.maintenance[0].timezone",
        "inhibit_rules[0].target",
        "inhibit_rules[0].source[0]",
    ]


def test_noise_rules_compile_with_route_overrides_and_service_defaults():
    config = parse_config(
        """
teams: {db: {members: [alice]}}
users: {alice: {name: A}}
services:
  orders: {team: db, storm: {threshold: 5}, flapping: {enabled: false}}
  web: {team: db}
routes: [{match: ['service=orders'], service: orders, group_by: ['...'],
          group_wait: 5s}]
grouping: {window: 5m, max_alerts: 50}
default_service: web
""",
        "t.yaml",
        kinds={"generic"},
    )
    rules = noise.policy_rules(config)
    route = rules["groups"][0]
    # The route's own group_by and group_wait; the window and size of the default.
    assert (route.group_by, route.group_wait, route.window, route.max_alerts) == (
        ("...",), 5.0, 300.0, 50,
    )  # fmt: skip
    orders = rules["services"]["orders"]
    # A service's storm threshold; flapping turned off for it (0 changes).
    assert (orders.storm.threshold, orders.flapping.changes) == (5, 0)
    assert rules["storm"].threshold == 100  # the default a storm needs
