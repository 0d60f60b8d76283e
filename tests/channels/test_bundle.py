"""Bundling: pages to one person within the window go as one message."""

from datetime import UTC, datetime

import pytest

from bus import wire
from channels.apprise import AppriseSender
from channels.bundle import STALE, decide
from channels.contacts import Book, Method, Person, Rule
from channels.page import Page
from channels.worker import Worker
from engine.config import ConfigError, parse_config
from tests.channels.test_worker import FAST, job, publish, steps_settled
from tests.conftest import TEST_CONFIG, wait_for
from warroom.delivery import book_of

WINDOW = 30.0
A, B, C = ({"key": k, "incident": n} for k, n in (("a", 1), ("b", 2), ("c", 3)))


def fresh(now: float) -> dict:
    return {"until": now + WINDOW, "carrier": None, "pages": []}


@pytest.mark.parametrize(
    ("record", "page", "now", "action", "after"),
    [
        # the first page of a quiet person goes at once and opens a window
        (None, A, 100.0, "alone", fresh(100.0)),
        # a window that closed with nothing in it: alone again
        (fresh(50.0), B, 100.0, "alone", fresh(100.0)),
        # the next page inside the window carries the bundle: it waits
        (
            fresh(100.0), B, 110.0, "wait",
            {"until": 130.0, "carrier": "b", "pages": [B]},
        ),
        # a third page joins the carrier's bundle
        (
            {"until": 130.0, "carrier": "b", "pages": [B]}, C, 120.0, "folded",
            {"until": 130.0, "carrier": "b", "pages": [B, C]},
        ),
        # the same page redelivered is listed once
        (
            {"until": 130.0, "carrier": "b", "pages": [B, C]}, C, 121.0, "folded",
            {"until": 130.0, "carrier": "b", "pages": [B, C]},
        ),
        # the carrier back early (a redelivery) waits on
        (
            {"until": 130.0, "carrier": "b", "pages": [B, C]}, B, 125.0, "wait",
            {"until": 130.0, "carrier": "b", "pages": [B, C]},
        ),
        # the carrier at the window's end goes, and a new window opens
        ({"until": 130.0, "carrier": "b", "pages": [B, C]}, B, 130.0, "carry",
         fresh(130.0)),
        # a carrier lost for good: the next page carries what it held
        ({"until": 130.0, "carrier": "b", "pages": [B, C]}, A, 131.0 + STALE,
         "carry", fresh(131.0 + STALE)),
    ],
)  # fmt: skip
def test_a_page_goes_alone_waits_folds_or_carries(record, page, now, action, after):
    decision, record_after = decide(record, page, now, WINDOW)
    assert decision.action == action
    assert record_after == after


def test_a_bundle_names_each_page_up_to_five():
    pages = [Page(n, f"disk full on db-{n}", "critical") for n in range(1, 8)]
    bundle = Page.bundle(pages)
    assert bundle.headline.startswith("7 incidents for you: disk full on db-1 (1)")
    assert bundle.headline.endswith("disk full on db-5 (5); and 2 more")
    assert bundle.spoken.startswith("7 incidents. critical, disk full on db-1, ")
    assert "Reply 1a to acknowledge" in bundle.sms  # the codes act on any listed


@pytest.fixture
async def triggered(bus):
    """The engine's answer to a worker asking about a folded incident."""
    nc, _ = bus

    async def answer(msg):
        summary = wire.IncidentSummary(
            id=1, title="t", severity="critical", state="triggered", service=None,
            team=None, owner=None, alert_count=1, created_at=datetime.now(UTC),
        )  # fmt: skip
        await msg.respond(wire.encode(wire.IncidentDetail(
            incident=summary, alerts=[], timeline=[]
        )))  # fmt: skip

    sub = await nc.subscribe(f"{wire.SUBJECT_QUERY}.get_incident", cb=answer)
    yield
    await sub.unsubscribe()


async def test_a_storm_to_one_person_is_two_messages_not_five(
    bus, receiver, results, triggered
):
    nc, js = bus
    push = Method("push", "apprise", receiver.url("alice"))
    alice = Person("alice", "Alice", {"push": push}, {"high": (Rule(0, "push"),)})
    book = Book({"alice": alice}, bundle_window=1.0)
    worker = Worker(nc, js, book, {"apprise": AppriseSender()}, FAST)
    await worker.start()
    try:
        await publish(bus, job(key="41-1-alice", incident=41))
        await wait_for(lambda: receiver.at("alice"))
        for n in range(42, 46):
            await publish(bus, job(key=f"{n}-1-alice", incident=n))
        await wait_for(lambda: len(results) == 5)
        await wait_for(lambda: steps_settled(bus))
    finally:
        await worker.stop()

    first, bundle = receiver.at("alice")
    assert first["title"] == "[critical] disk full on db-3 (incident 41)"
    assert bundle["title"].startswith("4 incidents for you: ")
    listed = sorted(int(line.rsplit(" ", 1)[1].rstrip(")")) for line in
                    bundle["message"].splitlines())  # fmt: skip
    assert listed == [42, 43, 44, 45]
    outcomes = sorted((r.result, r.incident) for r in results)
    carrier = next(r.incident for r in results[1:] if r.result == "delivered")
    assert [o for o, _ in outcomes] == ["bundled"] * 3 + ["delivered"] * 2
    folded = [r for r in results if r.result == "bundled"]
    assert {r.reason for r in folded} == {
        f"listed in the push page of incident {carrier}"
    }


@pytest.mark.parametrize(
    ("notify", "window", "problem"),
    [
        # not given: 30 s, long enough to fold a storm, short for a page to wait
        ("", 30.0, None),
        # `0s` turns bundling off: every page on its own
        ("notify: {bundle_window: 0s}\n", 0.0, None),
        # an hour's wait for a page is no bundle but an outage
        ("notify: {bundle_window: 1h}\n", None, "notify.bundle_window: at most 10m"),
    ],
)
def test_the_bundle_window_comes_from_the_config(notify, window, problem):
    text = TEST_CONFIG + notify
    if problem:
        with pytest.raises(ConfigError) as err:
            parse_config(text, "t.yaml")
        assert err.value.problems[0].startswith(problem)
        return
    assert book_of(parse_config(text, "t.yaml")).bundle_window == window


def test_a_full_bundle_counts_later_pages_without_listing_them():
    from channels.bundle import MAX_LISTED, decide

    pages = [{"key": f"p{i}"} for i in range(MAX_LISTED)]
    record = {"until": 130.0, "carrier": "p0", "pages": pages}
    decision, after = decide(record, {"key": "late"}, 121.0, 30.0)
    # Listing every page of a storm made each join rewrite a growing record;
    # past MAX_LISTED the page is bundled unlisted and the record stays put.
    assert decision.action == "counted"
    assert after is record
