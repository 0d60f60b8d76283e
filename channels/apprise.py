"""Chat, email and push through apprise: one URL per contact method or room."""

from __future__ import annotations

import asyncio
import logging

import apprise as apprise_lib

from channels.contacts import Method, redact
from channels.page import DeliveryFailed, Page

log = logging.getLogger(__name__)

TIMEOUT = 30.0  # seconds one notify call may take, every retry of apprise's own


def loads(url: str) -> bool:
    """Whether apprise can load `url` (the config check's question)."""
    return apprise_lib.Apprise().add(url)


class AppriseSender:
    """Delivers a page to one apprise URL, in a thread (apprise is blocking)."""

    kind = "apprise"

    async def send(self, method: Method, page: Page) -> str:
        """Deliver; return what the provider said, or raise `DeliveryFailed`."""
        return await asyncio.to_thread(self._send, method, page)

    def _send(self, method: Method, page: Page) -> str:
        notifier = apprise_lib.Apprise()
        if not notifier.add(method.address):
            raise DeliveryFailed("apprise cannot load this URL", retryable=False)
        notify_type = (
            apprise_lib.NotifyType.FAILURE
            if page.severity in ("critical", "error")
            else apprise_lib.NotifyType.WARNING
        )
        result = notifier.notify(
            body=page.body,
            title=page.headline,
            notify_type=notify_type,
            timeout=TIMEOUT,
        )
        if result:
            return "delivered"
        raise DeliveryFailed(redact(_reason(result), [method.address]))


def _reason(result) -> str:
    """The last warning apprise logged for the call, or its status."""
    messages = [str(entry.message) for entry in result.logs() if entry.message]
    if messages:
        return messages[-1].strip()
    return f"apprise status {result.status.name.lower()}"
