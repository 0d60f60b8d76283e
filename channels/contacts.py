"""The address book of delivery: people's contact methods and notification rules.

The composition root builds it from the config; `channels` never reads the
config itself. Addresses are secrets (an apprise URL carries a token, a phone
number is personal): their `repr` prints `<secret>`, and `redact` takes them
out of any text that might reach a log, an error or the timeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from channels.quiet import QuietHours
from channels.throttle import Throttle

KINDS = ("apprise", "sms", "voice")
SECRET = "<secret>"
URGENCIES = ("high", "low")


@dataclass(frozen=True)
class Method:
    """One contact method of a person: `kind` is apprise, sms or voice.

    `throttle` None sends every page; the book gives calls and SMS GoAlert's.
    """

    name: str
    kind: str
    address: str = field(repr=False)
    throttle: Throttle | None = None

    def __repr__(self) -> str:
        return f"Method(name={self.name!r}, kind={self.kind!r}, address={SECRET})"


@dataclass(frozen=True)
class Rule:
    """Use `method` `delay` seconds after the notify job."""

    delay: float
    method: str


@dataclass(frozen=True)
class Person:
    """Someone who can be paged, with rules per urgency (`high`, `low`)."""

    handle: str
    name: str
    methods: dict[str, Method]
    rules: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    quiet: QuietHours | None = None  # low-urgency pages wait while it lasts

    def rules_for(self, urgency: str) -> tuple[Rule, ...]:
        """The rules of one urgency; without any, every method at once."""
        found = self.rules.get(urgency)
        if found:
            return found
        return tuple(Rule(0.0, name) for name in self.methods)


@dataclass(frozen=True)
class Book:
    """Everyone's contact methods, each team's chat room, how pages bundle."""

    people: dict[str, Person] = field(default_factory=dict)
    rooms: dict[str, Method] = field(default_factory=dict)
    bundle_window: float = 0.0  # seconds; 0: every page goes on its own

    def owner_of_number(self, number: str) -> str | None:
        """The handle of the person with an sms or voice method at `number`."""
        wanted = digits(number)
        if not wanted:
            return None
        for person in self.people.values():
            for method in person.methods.values():
                if method.kind != "apprise" and digits(method.address) == wanted:
                    return person.handle
        return None

    def secrets(self) -> list[str]:
        """Every address, for `redact`."""
        found = [m.address for p in self.people.values() for m in p.methods.values()]
        return found + [m.address for m in self.rooms.values()]


def digits(number: str) -> str:
    """A phone number's digits only: `+1 (555) 010-0001` is `15550100001`."""
    return re.sub(r"\D", "", number)


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret, and every long token of one, as `<secret>`.

    An apprise URL's parts can appear on their own in a provider's error
    (a bot token, a webhook path), so each part of 6 or more characters is
    replaced too, longest first.
    """
    parts: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        parts.add(secret)
        parts.update(p for p in re.split(r"[/:@?&=#,]+", secret) if len(p) >= 6)
    for part in sorted(parts, key=len, reverse=True):
        text = text.replace(part, SECRET)
    return text
