"""Throttles per contact method: counted across workers, recorded, never silent."""

import pytest

from channels.contacts import Book, Method, Person, Rule
from channels.plivo import Account, PlivoSender
from channels.throttle import DEFAULTS, Throttle
from channels.worker import Worker
from engine.config import ConfigError, parse_config
from tests.channels.conftest import ALICE_PHONE, AUTH_ID, AUTH_TOKEN, FROM_NUMBER
from tests.channels.test_worker import FAST, job, publish, steps_settled
from tests.conftest import TEST_CONFIG, wait_for
from warroom.delivery import book_of

THREE_PER_MINUTE = Throttle(3, 60.0)


@pytest.mark.parametrize(
    ("sent", "now", "admitted", "kept"),
    [
        # nothing sent yet: the first page goes, and is counted
        ([], 100.0, True, [100.0]),
        # two in the window: the third still fits
        ([50.0, 90.0], 100.0, True, [50.0, 90.0, 100.0]),
        # three in the window: the fourth is throttled, nothing is added
        ([50.0, 60.0, 90.0], 100.0, False, [50.0, 60.0, 90.0]),
        # one left the window (exactly 60 s old): a slot is free again
        ([40.0, 60.0, 90.0], 100.0, True, [60.0, 90.0, 100.0]),
    ],
)
def test_a_throttle_admits_count_pages_per_window(sent, now, admitted, kept):
    assert THREE_PER_MINUTE.admit(sent, now) == (admitted, kept)


def test_a_throttled_page_says_when_the_next_can_go():
    # The oldest of the three was sent at 00:00:50 UTC: free a minute later.
    why = THREE_PER_MINUTE.why("voice", [50.0, 60.0, 90.0])
    assert why == "at most 3 voice pages per 1m; the next can go at 00:01:50 UTC"


def _user(methods: str) -> str:
    return TEST_CONFIG.replace(
        "carol: {name: Carol}", f"carol: {{name: Carol, contact_methods: {methods}}}"
    ) + (
        "plivo: {auth_id: a, auth_token: t, number: '+15550100000', "
        "api_url: 'http://127.0.0.1:9'}\n"
    )


@pytest.mark.parametrize(
    ("methods", "expected"),
    [
        # no throttle given: calls and SMS get GoAlert's defaults, push none
        (
            "{c: {voice: '+15550100003'}, s: {sms: '+15550100003'}, "
            "p: {apprise: 'json://127.0.0.1:9/x'}}",
            {"c": DEFAULTS["voice"], "s": DEFAULTS["sms"], "p": None},
        ),
        # a user's own count and window replace the default
        ("{c: {voice: '+15550100003', throttle: 2/1h}}", {"c": Throttle(2, 3600.0)}),
        # `off` sends every call, as the user asked
        ("{c: {voice: '+15550100003', throttle: 'off'}}", {"c": None}),
    ],
)
def test_the_book_gives_each_method_its_throttle(methods, expected):
    carol = book_of(parse_config(_user(methods), "t.yaml")).people["carol"]
    assert {name: m.throttle for name, m in carol.methods.items()} == expected


@pytest.mark.parametrize(
    "throttle",
    [
        "3",  # no window: per what?
        "0/15m",  # nothing at all is not a throttle, it is `off`
        "3/2d",  # longer than the bucket keeps send times
    ],
)
def test_a_bad_throttle_is_named_by_its_path(throttle):
    text = _user(f"{{c: {{voice: '+15550100003', throttle: '{throttle}'}}}}")
    with pytest.raises(ConfigError) as err:
        parse_config(text, "t.yaml")
    [problem] = err.value.problems
    assert problem.startswith("users.carol.contact_methods.c.throttle: ")


@pytest.fixture
async def sms_workers(bus, fake_plivo):
    """Two workers sharing the queue; Alice's SMS allows 2 pages per 15m."""
    nc, js = bus
    sms = Method("sms", "sms", ALICE_PHONE, Throttle(2, 900.0))
    alice = Person("alice", "Alice", {"sms": sms}, {"high": (Rule(0, "sms"),)})
    account = Account(AUTH_ID, AUTH_TOKEN, FROM_NUMBER, "http://x", fake_plivo.url)
    workers = [
        Worker(nc, js, Book({"alice": alice}), {"sms": PlivoSender(account, "sms")},
               FAST)
        for _ in range(2)
    ]  # fmt: skip
    for worker in workers:
        await worker.start()
    yield workers
    for worker in workers:
        await worker.stop()


async def test_pages_past_the_throttle_are_recorded_not_sent(
    bus, sms_workers, fake_plivo, results
):
    for n in range(5):
        await publish(bus, job(key=f"4{n}-1-alice", incident=40 + n))
    await wait_for(lambda: len(results) == 5)
    await wait_for(lambda: steps_settled(bus))

    outcomes = sorted(r.result for r in results)
    assert outcomes == ["delivered"] * 2 + ["throttled"] * 3
    assert len(fake_plivo.messages) == 2  # two workers, one count between them
    throttled = [r for r in results if r.result == "throttled"]
    assert all(r.reason.startswith("at most 2 sms pages per 15m") for r in throttled)
    assert all((r.channel, r.attempt, r.final) == ("sms", 0, True) for r in throttled)
