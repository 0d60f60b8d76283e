"""Bundling during a storm: one message lists the pages one person got at once.

The first page to a person's contact method goes at once and opens a window
(`notify.bundle_window`, 30 s by default). A page that falls due inside it
becomes the bundle's carrier: it waits until the window ends, then goes as
one message listing every page that joined, and a new window opens. Pages
that join an open bundle are folded into it; when the carrier goes, each is
recorded as `bundled` (or with the carrier's failure). A storm of 50 pages
is then two messages to the phone, not 50.

The open bundle of each person and method is a key in the `NOTIFY_BUNDLE`
bucket, written with a compare of the revision so that any worker may hold
any page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nats.js.errors import KeyWrongLastSequenceError

from channels import buckets

log = logging.getLogger(__name__)

BUCKET = "NOTIFY_BUNDLE"
BUCKET_TTL = 24 * 3600.0
CAS_TRIES = 5
# A bundle lists at most this many pages; later ones in its window are
# recorded as bundled at once. Unbounded, the shared record grew with every
# page of a storm and each join rewrote all of it: quadratic, and a 1,000-page
# storm delayed the engine's timers by seconds in `warroom up`.
MAX_LISTED = 20
STALE = 120.0  # seconds past its window a carrier is taken for lost


@dataclass(frozen=True)
class Decision:
    """What to do with one page.

    `alone`: send it now. `wait`: it carries the bundle, come back at `until`.
    `folded`: it is listed in another page's bundle. `counted`: the bundle
    is full; the page joins it unlisted. `carry`: send `pages` (the carrier's
    own first) as one message now.
    """

    action: str
    until: float = 0.0
    pages: tuple[dict, ...] = ()


def decide(
    record: dict | None, page: dict, now: float, window: float
) -> tuple[Decision, dict]:
    """The decision for `page` (a dict with its step `key`), and the new record."""
    fresh = {"until": now + window, "carrier": None, "pages": []}
    if record is None or (record["carrier"] is None and now >= record["until"]):
        return Decision("alone"), fresh
    carrier, pages = record["carrier"], record["pages"]
    if carrier is None:
        joined = {**record, "carrier": page["key"], "pages": [page]}
        return Decision("wait", record["until"]), joined
    if carrier == page["key"] or now > record["until"] + STALE:
        if now < record["until"]:
            return Decision("wait", record["until"]), record
        listed = [p for p in pages if p["key"] != page["key"]]
        return Decision("carry", pages=(page, *listed)), fresh
    if any(p["key"] == page["key"] for p in pages):
        return Decision("folded"), record  # redelivered: listed already
    if len(pages) >= MAX_LISTED:
        return Decision("counted"), record
    return Decision("folded"), {**record, "pages": [*pages, page]}


class Bundles:
    """The open bundles, shared by every worker."""

    def __init__(self, kv, window: float) -> None:
        self.kv = kv
        self.window = window

    async def join(self, key: str, page: dict, now: float) -> Decision:
        """Decide for `page` on the open bundle of `key` (person and method)."""
        for _ in range(CAS_TRIES):
            record, revision = await buckets.read(self.kv, key)
            decision, after = decide(record, page, now, self.window)
            try:
                await buckets.write(self.kv, key, after, revision)
                return decision
            except KeyWrongLastSequenceError:
                continue  # another worker changed the bundle: decide again
        log.warning("bundle not decided, sending alone key=%s", key)
        return Decision("alone")
