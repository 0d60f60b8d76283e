"""Silences: matchers and a time window, created at run time by a person.

An alert whose labels (with its `severity` and routed `service`) match every
matcher of an active silence is stored and shown as silenced, and does not
page. `silence_warning` before a silence ends, each open incident it holds
alerts on says so on its timeline; when it ends, incidents it kept quiet
page for the alerts still firing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.core import paging
from engine.core.incident import Refused
from engine.core.matchers import Matcher, MatcherError, matches_all, parse_matcher
from engine.core.model import Effects, State, Timer

if TYPE_CHECKING:
    from engine.core.policy import Policy
    from engine.core.step import Step


@dataclass(slots=True)
class Silence:
    """Matchers, a window, who made it and why; `expired_by` when ended early."""

    id: int
    matchers: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    expired_by: str | None = None
    compiled: tuple[Matcher, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not self.compiled:
            self.compiled = tuple(parse_matcher(m) for m in self.matchers)

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    @property
    def ref(self) -> str:
        return f"silence:{self.id}"

    def describe(self) -> str:
        return (
            f"silence {self.id} by {self.created_by} "
            f"({', '.join(self.matchers)}): {self.comment}"
        )


def add(
    state: State,
    matchers: list[str],
    duration: float,
    comment: str,
    actor: str,
    now: datetime,
    policy: Policy,
) -> tuple[Silence, Effects]:
    """A person silences alerts matching `matchers` for `duration` seconds."""
    if actor not in policy.users:
        raise Refused(f"unknown user {actor!r}")
    if not matchers:
        raise Refused("a silence needs at least one matcher")
    if duration <= 0:
        raise Refused("a silence needs a duration above zero")
    if not comment.strip():
        raise Refused("a silence needs a comment saying why")
    try:
        compiled = tuple(parse_matcher(m) for m in matchers)
    except MatcherError as err:
        raise Refused(str(err)) from err
    silence = Silence(
        id=state.noise.next_silence_id, matchers=tuple(matchers), starts_at=now,
        ends_at=now + timedelta(seconds=duration), created_by=actor,
        comment=comment.strip(), compiled=compiled,
    )  # fmt: skip
    state.noise.next_silence_id += 1
    state.noise.silences[silence.id] = silence
    effects = Effects(silences={silence.id: silence})
    effects.timers.extend(timers_of(silence, policy))
    return silence, effects


def timers_of(silence: Silence, policy: Policy) -> list[Timer]:
    """The warning before a silence ends, and its end."""
    warn = silence.ends_at - timedelta(seconds=policy.silence_warning)
    timers = [Timer(silence.ends_at, "silence_ended", str(silence.id))]
    if warn > silence.starts_at:
        timers.insert(0, Timer(warn, "silence_expiring", str(silence.id)))
    return timers


def expire(
    state: State, silence_id: int, actor: str, now: datetime, policy: Policy
) -> tuple[Silence, Effects]:
    """A person ends a silence now; what it held and still fires pages."""
    if actor not in policy.users:
        raise Refused(f"unknown user {actor!r}")
    silence = state.noise.silences.get(silence_id)
    if silence is None or not silence.ends_at > now:
        raise Refused(f"no active silence {silence_id}")
    silence.ends_at, silence.expired_by = now, actor
    effects = Effects(silences={silence.id: silence})
    ended(state, silence.id, now, policy, effects)
    return silence, effects


def matching(state: State, labels: dict[str, str], now: datetime) -> Silence | None:
    """The first active silence whose matchers all hold for `labels`."""
    for silence in state.noise.silences.values():
        if silence.active(now) and matches_all(silence.compiled, labels):
            return silence
    return None


def stage(step: Step) -> None:
    """Pipeline stage: hold alerts that an active silence matches."""
    if not step.state.noise.silences:
        return
    found = matching(step.state, step.labels, step.now)
    if found is not None:
        step.held(
            "silence", "silenced",
            f"{found.describe()} until {found.ends_at:%Y-%m-%d %H:%M}Z", found.ref,
        )  # fmt: skip


def warn(state: State, silence_id: int, now: datetime, effects: Effects) -> None:
    """Timer: tell the incidents a silence holds alerts on that it ends soon."""
    silence = state.noise.silences.get(silence_id)
    if silence is None or not silence.active(now):
        return
    for incident in paging.holding(state, silence.ref):
        state.record(
            effects, incident, "silence_expiring", now, "engine",
            f"{silence.describe()} expires at {silence.ends_at:%H:%M}Z",
            silence=silence.id, ends_at=silence.ends_at.isoformat(),
        )  # fmt: skip


def ended(
    state: State, silence_id: int, now: datetime, policy: Policy, effects: Effects
) -> None:
    """Timer (or expire): release what the silence held, and forget it."""
    silence = state.noise.silences.get(silence_id)
    if silence is None or silence.ends_at > now:
        return  # a timer of a silence that was changed since
    paging.release(state, silence.ref, "silence_ended", now, effects,
                   f"{silence.describe()} ended")  # fmt: skip
    del state.noise.silences[silence_id]
