"""The console's picture of the incidents: a snapshot plus the events after it.

Every incident summary carries the id of the last event that changed it, and
event ids only grow, so the newest summary of an incident always wins no matter
in which order a snapshot and the events around it arrive, or how often an
event is delivered. That is what makes a console started late show the same
queue as one that was running all along.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bus import wire

# The engine's snapshot holds this many resolved incidents (newest first by
# id); a running console keeps the same number so that both show the same.
RECENT_RESOLVED = wire.GetSnapshot().recent_resolved


@dataclass(frozen=True, slots=True)
class Counts:
    """Open incidents by severity and by state, as the wall shows them."""

    by_severity: dict[str, int]
    by_state: dict[str, int]


def queue_order(incident: wire.IncidentSummary) -> tuple:
    """Sort key: open incidents first, by severity then oldest first.

    Resolved incidents follow, the most recent first: they are history.
    """
    if incident.state != "resolved":
        return (
            0,
            wire.severity_rank(incident.severity),
            incident.created_at,
            incident.id,
        )
    return (1, -incident.id)


class Board:
    """The incidents a console knows, keyed by id."""

    def __init__(self) -> None:
        self.incidents: dict[int, wire.IncidentSummary] = {}

    def apply(self, incident: wire.IncidentSummary) -> bool:
        """Take a summary if it is newer than the one held; say whether it was."""
        held = self.incidents.get(incident.id)
        if held is not None and held.last_event_id >= incident.last_event_id:
            return False
        self.incidents[incident.id] = incident
        return True

    def apply_events(self, events: Iterable[wire.Event]) -> set[int]:
        """Take the incident states that events carry; return the changed ids."""
        changed = {
            event.incident_id
            for event in events
            if event.incident is not None and self.apply(event.incident)
        }
        if changed:
            self.trim()
        return changed

    def merge(self, snapshot: wire.Snapshot) -> None:
        """Take a snapshot: it is the whole truth up to its `last_event_id`.

        An incident held but absent from the snapshot was resolved long enough
        ago to fall out of it, unless an event newer than the snapshot put it
        here, in which case it stays.
        """
        fresh = {incident.id for incident in snapshot.incidents}
        for held in list(self.incidents.values()):
            if held.id not in fresh and held.last_event_id <= snapshot.last_event_id:
                del self.incidents[held.id]
        for incident in snapshot.incidents:
            self.apply(incident)
        self.trim()

    def trim(self) -> None:
        """Keep every open incident and the most recent resolved ones."""
        resolved = sorted(
            (i.id for i in self.incidents.values() if i.state == "resolved"),
            reverse=True,
        )
        for incident_id in resolved[RECENT_RESOLVED:]:
            del self.incidents[incident_id]

    def ordered(self, *, open_only: bool = False) -> list[wire.IncidentSummary]:
        """The incidents in queue order."""
        incidents = self.incidents.values()
        if open_only:
            incidents = [i for i in incidents if i.state != "resolved"]
        return sorted(incidents, key=queue_order)

    def counts(self) -> Counts:
        """Count open incidents by severity and by state."""
        open_incidents = [i for i in self.incidents.values() if i.state != "resolved"]
        severities = Counter(i.severity for i in open_incidents)
        states = Counter(i.state for i in open_incidents)
        return Counts(
            by_severity={s: severities[s] for s in wire.SEVERITIES},
            by_state={s: states[s] for s in ("triggered", "acknowledged")},
        )
