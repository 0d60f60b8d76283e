"""`warroom simulate`: the route, the incident and every notification, dry.

The same core the engine runs, driven by a fake clock from `--at`: an alert
for the service is ingested into an empty state, its page starts the
service's escalation policy, and each timer fires at its due time until the
policy is exhausted or someone acknowledges. Nothing is stored or sent, and
overrides (run-time state in the store) are not included.
"""

from __future__ import annotations

import json
from datetime import timedelta

from bus import wire
from engine.core import escalation as esc
from engine.core import incident as core
from engine.core import pipeline
from engine.core.model import Effects, State
from engine.directory import directory_of
from engine.service import policy_of
from warroom.commands.oncall import parse_time
from warroom.common import Failure, add_config_option, iso, load, out

HORIZON = timedelta(days=2)  # a policy still climbing after this is reported


def register(sub) -> None:
    parser = sub.add_parser("simulate", help="who would be notified, minute by minute")
    add_config_option(parser)
    parser.add_argument("--data", default=None, help="data directory")
    parser.add_argument("--service", required=True, metavar="S")
    parser.add_argument("--severity", default="critical", choices=wire.SEVERITIES)
    parser.add_argument("--at", default=None, metavar="TIME", help="ISO 8601 time")
    parser.add_argument("--no-ack", action="store_true",
                        help="nobody acknowledges: climb to exhaustion")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    config = load(args)
    if args.service not in config.services:
        raise Failure(f"unknown service {args.service!r}")
    start = parse_time(args.at)
    events = simulate(config, args.service, args.severity, start, not args.no_ack)
    if args.json:
        out(json.dumps([_event_json(e, start) for e in events], indent=2))
        return 0
    for event in events:
        minute = (event.at - start).total_seconds() / 60
        out(f"+{minute:6.1f}m  {iso(event.at)}  {event.type:<20} {event.text}")
    return 0


def simulate(config, service: str, severity: str, start, ack: bool) -> list:
    """The timeline an alert for `service` at `start` would write."""
    policy, directory, state = policy_of(config), directory_of(config), State()
    alert = wire.Alert(
        integration="simulate", source="simulate", dedup_key=f"simulate-{service}",
        severity=severity, title=f"simulated {severity} alert",
        labels={"service": service}, received_at=start,
    )  # fmt: skip
    effects = core.ingest(state, alert, start, policy)
    effects = _release_holds(state, effects, policy, start)
    steps = esc.Steps(effects=effects)
    timers: dict = {}
    for page in effects.pages:
        incident = state.incidents[page.incident_id]
        esc.page(state, incident, page.reason, directory, timers, page.at, steps)
    events = list(effects.events)
    _apply(steps, timers)
    if ack and steps.notices:
        events += _acknowledge(state, steps.notices[0], directory, timers, policy)
    events += _climb(state, directory, timers, start + HORIZON)
    return events


def _release_holds(state, effects: Effects, policy, start) -> Effects:
    # A page held by group_wait is released by its timer: fire those too.
    for timer in sorted(effects.timers, key=lambda t: t.due):
        if timer.kind == "group_wait":
            pipeline.fire(state, timer, timer.due, policy, effects)
    return effects


def _acknowledge(state, notice, directory, timers, policy) -> list:
    incident = state.incidents[notice.incident_id]
    effects = core.acknowledge(state, incident, notice.user, notice.at, policy)
    steps = esc.Steps(effects=effects)
    esc.acknowledged(incident, directory, timers, notice.at, steps)
    _apply(steps, timers)
    return list(effects.events)


def _climb(state, directory, timers, until) -> list:
    events = []
    for _ in range(10_000):  # bounded: a policy has at most 21 passes
        due = esc.due(timers, until)
        if not due:
            break
        timer = due[0]
        steps = esc.Steps()
        incident = state.incidents.get(timer.incident_id)
        esc.fire(state, incident, timer, directory, timer.due, steps)
        _apply(steps, timers)
        events += steps.effects.events
    return events


def _apply(steps: esc.Steps, timers: dict) -> None:
    for key in steps.cleared:
        timers.pop(key, None)
    timers.update(steps.timers)


def _event_json(event, start) -> dict:
    return {
        "minute": round((event.at - start).total_seconds() / 60, 2),
        "at": iso(event.at),
        "type": event.type,
        "actor": event.actor,
        "text": event.text,
        **event.data,
    }
