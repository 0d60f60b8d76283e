"""One alert on its way through the pipeline: what each stage reads and refines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bus.wire import Alert
from engine.core.model import AlertKey, AlertRecord, Effects, Hold, Incident, State

if TYPE_CHECKING:
    from engine.core.policy import GroupRule, Policy
    from engine.core.routing import Destination


@dataclass(slots=True)
class Step:
    """The alert, the state it changes, and what the stages decided so far.

    A stage sets `done` when it has handled the alert completely (a repeat,
    a recovery, a stale message); the last stage, paging, puts the alert on
    `incident` (opening one when None) and pages unless `hold` is set.
    """

    state: State
    alert: Alert
    now: datetime
    policy: Policy
    effects: Effects
    key: AlertKey
    at: datetime  # the source's event time: starts_at, or ends_at for a recovery
    labels: dict[str, str]  # the alert's labels with `severity` and `service`
    destination: Destination | None = None
    rule: GroupRule | None = None
    group_key: str | None = None
    incident: Incident | None = None
    record: AlertRecord | None = None  # an alert brought back by a reopen
    hold: Hold | None = None
    title: str | None = None  # a title the incident takes (a storm's count)
    page_reason: str = "opened"
    done: bool = False

    def held(self, stage: str, reason: str, detail: str, ref: str = "") -> None:
        """Hold the alert back from paging, unless an earlier stage did."""
        if self.hold is None:
            self.hold = Hold(stage, reason, detail, ref)
