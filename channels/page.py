"""What a page says, and how a delivery fails.

Every delivery method (apprise, plivo) takes a `Page` and a contact method
and either returns or raises `DeliveryFailed` with a reason that holds no
secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from bus import wire


class DeliveryFailed(Exception):
    """A provider did not take the page; `retryable` says whether to try again."""

    def __init__(self, reason: str, retryable: bool = True) -> None:
        self.reason = reason
        self.retryable = retryable
        super().__init__(reason)


@dataclass(frozen=True)
class Page:
    """The words of one page: an incident, or a test page (incident 0)."""

    incident: int
    title: str
    severity: str | None = None
    test: bool = False

    @classmethod
    def of(cls, job: wire.NotifyJob) -> Page:
        return cls(job.incident, job.title or f"incident {job.incident}", job.severity)

    @property
    def headline(self) -> str:
        """`[critical] disk full on db-3 (incident 42)`, for chat and push."""
        if self.test:
            return "warroom test page"
        severity = f"[{self.severity}] " if self.severity else ""
        return f"{severity}{self.title} (incident {self.incident})"

    @property
    def spoken(self) -> str:
        """`critical, disk full on db-3, incident 42`, for a phone call."""
        if self.test:
            return "This is a test page from warroom. Your phone works."
        parts = [self.severity] if self.severity else []
        return ", ".join([*parts, self.title, f"incident {self.incident}"])

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
