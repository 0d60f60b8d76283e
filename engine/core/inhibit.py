"""Inhibition: while a source alert fires, matching target alerts do not page.

An inhibit rule names source matchers, target matchers and `equal` labels:
a target is held while a source with the same values of those labels fires
(a data centre down holds the alerts of that data centre only). The target
is recorded on the source's incident, where the cause is being worked on.
When the source recovers and targets still fire, that incident pages again:
the cause is gone and the symptoms are not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.matchers import matches_all

if TYPE_CHECKING:
    from engine.core.model import AlertRecord, Incident, State
    from engine.core.policy import InhibitRule, Policy
    from engine.core.step import Step


def _labels(record: AlertRecord, incident: Incident) -> dict[str, str]:
    return {
        **record.labels,
        "severity": record.severity,
        "service": incident.service or "",
    }


def _values(rule: InhibitRule, labels: dict[str, str]) -> tuple[str, ...]:
    return tuple(labels.get(name, "") for name in rule.equal)


def note_firing(
    state: State, record: AlertRecord, incident: Incident, policy: Policy
) -> None:
    """Index a firing alert under every rule it is a source of."""
    if not policy.inhibit_rules:
        return
    labels = _labels(record, incident)
    for i, rule in enumerate(policy.inhibit_rules):
        if matches_all(rule.source, labels):
            found = state.noise.sources.setdefault((i, _values(rule, labels)), {})
            found[record.key] = incident.id


def note_recovered(
    state: State, record: AlertRecord, incident: Incident, policy: Policy
) -> bool:
    """Forget a recovered source; True when it was one (its targets release)."""
    labels, was_source = _labels(record, incident), False
    for i, rule in enumerate(policy.inhibit_rules):
        found = state.noise.sources.get((i, _values(rule, labels)), {})
        was_source = found.pop(record.key, None) is not None or was_source
    return was_source


def source_ref(record: AlertRecord) -> str:
    return f"inhibit:{record.integration}|{record.dedup_key}"


def stage(step: Step) -> None:
    """Pipeline stage: hold a target while a matching source fires."""
    rules = step.policy.inhibit_rules
    if not rules or step.hold is not None:
        return
    for i, rule in enumerate(rules):
        if not matches_all(rule.target, step.labels):
            continue
        found = step.state.noise.sources.get((i, _values(rule, step.labels)), {})
        for key, incident_id in found.items():
            source = step.state.incidents.get(incident_id)
            if key == step.key or source is None or not source.is_open:
                continue
            _hold(step, rule, source, source.alerts[key])
            return


def _hold(step: Step, rule: InhibitRule, source: Incident, record) -> None:
    step.held(
        "inhibit", "inhibited",
        f"inhibited by {record.title!r} (incident {source.id}, {rule.name})",
        source_ref(record),
    )  # fmt: skip
    if step.record is None:
        step.incident = source  # recorded on the source's incident


def rebuild(state: State, policy: Policy) -> None:
    """Index the firing sources of the open incidents (after a restart)."""
    for incident in state.incidents.values():
        for record in incident.alerts.values():
            if record.status == "firing":
                note_firing(state, record, incident, policy)
