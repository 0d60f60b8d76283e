"""What a page says, and how a delivery fails.

Every delivery method (apprise, plivo) takes a `Page` and a contact method
and either returns or raises `DeliveryFailed` with a reason that holds no
secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from bus import wire

LISTED = 5  # pages a bundle names one by one; a call of 50 titles helps nobody


class DeliveryFailed(Exception):
    """A provider did not take the page; `retryable` says whether to try again."""

    def __init__(self, reason: str, retryable: bool = True) -> None:
        self.reason = reason
        self.retryable = retryable
        super().__init__(reason)


@dataclass(frozen=True)
class Page:
    """The words of one page: an incident, or a test page (incident 0).

    A bundle is the first page with the `others` folded into it; every text
    then names how many there are and lists the first `LISTED`.
    """

    incident: int
    title: str
    severity: str | None = None
    test: bool = False
    others: tuple[Page, ...] = ()
    service: str | None = None

    @classmethod
    def of(cls, job: wire.NotifyJob) -> Page:
        title = job.title or f"incident {job.incident}"
        return cls(job.incident, title, job.severity, service=job.service)

    @classmethod
    def of_listing(cls, listing: dict) -> Page:
        """A page from what a bundle keeps of it."""
        n, service = listing["incident"], listing.get("service")
        return cls(n, listing["title"] or f"incident {n}", listing["severity"],
                   service=service)  # fmt: skip

    @classmethod
    def bundle(cls, pages: list[Page]) -> Page:
        """One page that lists `pages`, the first leading."""
        first, *others = pages
        return cls(first.incident, first.title, first.severity,
                   others=tuple(others), service=first.service)  # fmt: skip

    @property
    def pages(self) -> tuple[Page, ...]:
        return (self, *self.others)

    @property
    def headline(self) -> str:
        """`[critical] orders-db: disk full on db-3 (incident 42)`, for chat."""
        if self.test:
            return "warroom test page"
        if self.others:
            return f"{len(self.pages)} incidents for you: " + self._listed(
                lambda p: f"{p.title} ({p.incident})", "; "
            )
        return self._one_line

    @property
    def body(self) -> str:
        """The chat or push text: the headline, or a bundle's line per page."""
        if not self.others:
            return self.sms if self.test else self.headline
        return self._listed(lambda p: p._one_line, "\n")

    @property
    def spoken(self) -> str:
        """`critical, orders-db, disk full on db-3, incident 42`, for a call."""
        if self.test:
            return "This is a test page from warroom. Your phone works."
        if self.others:
            said = self._listed(lambda p: p._spoken_one, ". ")
            return f"{len(self.pages)} incidents. {said}"
        return self._spoken_one

    @property
    def sms(self) -> str:
        """The text message, with the short codes that act on the incident."""
        if self.test:
            return "warroom test page: your phone works."
        n = self.incident
        return (
            f"{self.headline}. Reply {n}a to acknowledge, {n}e to escalate, "
            f"{n}r to resolve."
        )

    @property
    def _one_line(self) -> str:
        severity = f"[{self.severity}] " if self.severity else ""
        service = f"{self.service}: " if self.service else ""
        return f"{severity}{service}{self.title} (incident {self.incident})"

    @property
    def _spoken_one(self) -> str:
        parts = [p for p in (self.severity, self.service) if p]
        return ", ".join([*parts, self.title, f"incident {self.incident}"])

    def _listed(self, line, sep: str) -> str:
        named = [line(p) for p in self.pages[:LISTED]]
        rest = len(self.pages) - LISTED
        return sep.join(named) + (f"{sep}and {rest} more" if rest > 0 else "")
