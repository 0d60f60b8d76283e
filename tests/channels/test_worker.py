"""The channel worker on a real nats-server: jobs in, deliveries and results out."""

import json
from datetime import UTC, datetime

import pytest
from nats.js.errors import KeyNotFoundError

from bus import wire
from channels.apprise import AppriseSender
from channels.contacts import Book, Method, Person, Rule
from channels.plivo import Account, PlivoSender
from channels.worker import BUCKET, Retry, Worker
from tests.channels.conftest import ALICE_PHONE, AUTH_ID, AUTH_TOKEN, FROM_NUMBER
from tests.conftest import wait_for

FAST = Retry(attempts=3, first=0.05, factor=2.0, cap=0.2)


def job(key="42-1-alice", user="alice", incident=42, urgency="high", at=None):
    return wire.NotifyJob(
        key=key, incident=incident, user=user, team="database", level=1, repeat=0,
        reason="opened", why="on call", urgency=urgency,
        at=at or datetime.now(UTC), title="disk full on db-3", severity="critical",
    )  # fmt: skip


def book(receiver, rules=()) -> Book:
    methods = {
        "push": Method("push", "apprise", receiver.url("alice")),
        "sms": Method("sms", "sms", ALICE_PHONE),
    }
    alice = Person("alice", "Alice", methods, {"high": tuple(rules)} if rules else {})
    room = Method("room", "apprise", receiver.url("room"))
    return Book({"alice": alice}, {"database": room})


@pytest.fixture
async def start_worker(bus, receiver, fake_plivo):
    nc, js = bus
    started = []

    async def start(rules=(), retry=FAST, ack_wait=30.0):
        account = Account(AUTH_ID, AUTH_TOKEN, FROM_NUMBER, "http://x", fake_plivo.url)
        senders = {"apprise": AppriseSender(), "sms": PlivoSender(account, "sms")}
        worker = Worker(nc, js, book(receiver, rules), senders, retry, ack_wait)
        await worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        await worker.stop()


async def publish(bus, message: wire.Wire, subject=wire.SUBJECT_NOTIFY_JOBS):
    _, js = bus
    await js.publish(subject, wire.encode(message))


async def test_a_job_reaches_every_method_and_reports_each(
    bus, start_worker, receiver, fake_plivo, results
):
    await start_worker()  # no rules: every method at once
    await publish(bus, job())
    await wait_for(lambda: len(results) == 2)
    assert {(r.method, r.channel, r.result, r.attempt) for r in results} == {
        ("push", "apprise", "delivered", 1),
        ("sms", "sms", "delivered", 1),
    }
    assert receiver.at("alice")[0]["title"].startswith("[critical] disk full")
    assert len(fake_plivo.messages) == 1


async def test_failed_attempts_are_retried_and_each_is_reported(
    bus, start_worker, receiver, results
):
    receiver.failures = 2
    await start_worker(rules=[Rule(0, "push")])
    await publish(bus, job())
    await wait_for(lambda: any(r.result == "delivered" for r in results))
    assert [(r.result, r.attempt, r.final) for r in results] == [
        ("failed", 1, False),
        ("failed", 2, False),
        ("delivered", 3, True),
    ]
    assert "500" in results[0].reason
    assert len(receiver.at("alice")) == 1


async def test_retries_are_bounded_and_the_last_says_so(
    bus, start_worker, receiver, results
):
    receiver.failures = 100
    await start_worker(rules=[Rule(0, "push")])
    await publish(bus, job())
    await wait_for(lambda: any(r.final for r in results))
    assert [(r.attempt, r.final) for r in results] == [
        (1, False), (2, False), (3, True),
    ]  # fmt: skip
    assert receiver.failures == 97  # three posts, no more


async def test_a_redelivered_step_is_not_sent_twice(
    bus, start_worker, receiver, results
):
    await start_worker(rules=[Rule(0, "push")])
    await publish(bus, job())
    await wait_for(lambda: len(results) == 1)
    step = wire.NotifyStep(
        key="42-1-alice.push", job=job(), method="push", due=datetime.now(UTC)
    )
    # As JetStream would after a lost ack: the same step once more.
    await publish(bus, step, wire.SUBJECT_NOTIFY_STEPS)
    await wait_for(lambda: steps_settled(bus))
    assert len(receiver.at("alice")) == 1
    assert len(results) == 1


async def test_a_step_cut_mid_send_is_not_resent_but_reported(
    bus, start_worker, fake_plivo, results
):
    _, js = bus
    await start_worker(rules=[Rule(0, "sms")])
    kv = await js.key_value(BUCKET)
    # What a worker killed while Plivo was taking the SMS leaves behind.
    await kv.put(
        "42-1-alice.sms", json.dumps({"state": "sending", "attempt": 1}).encode()
    )
    await publish(bus, job())
    await wait_for(lambda: results)
    [result] = results
    assert (result.result, result.attempt, result.final) == ("failed", 1, True)
    assert result.reason.startswith("outcome unknown")
    assert fake_plivo.messages == []


async def test_a_team_job_goes_to_the_chat_room(bus, start_worker, receiver, results):
    await start_worker()
    await publish(bus, job(key="42-9-team", user=None))
    await wait_for(lambda: results)
    assert results[0].method == "room" and results[0].result == "delivered"
    assert receiver.at("room")


async def test_a_person_without_methods_is_reported_not_dropped(
    bus, start_worker, results
):
    await start_worker()
    await publish(bus, job(key="42-1-zed", user="zed"))
    await wait_for(lambda: results)
    assert results[0].result == "failed"
    assert results[0].reason == "user zed has no contact methods"


async def test_a_later_step_waits_and_is_dropped_once_acknowledged(
    bus, start_worker, receiver, results
):
    nc, _ = bus
    state = {"now": "triggered"}

    async def engine(msg):  # the engine's query answer, as far as steps ask
        summary = wire.IncidentSummary(
            id=42, title="t", severity="critical", state=state["now"], service=None,
            team=None, owner=None, alert_count=1, created_at=datetime.now(UTC),
        )  # fmt: skip
        detail = wire.IncidentDetail(incident=summary, alerts=[], timeline=[])
        await msg.respond(wire.encode(detail))

    await nc.subscribe(f"{wire.SUBJECT_QUERY}.get_incident", cb=engine)
    await start_worker(rules=[Rule(0, "push"), Rule(0.5, "sms")])
    started = datetime.now(UTC)
    await publish(bus, job(at=started))
    await wait_for(lambda: len(results) == 2)
    sms = next(r for r in results if r.method == "sms")
    assert (sms.at - started).total_seconds() >= 0.5  # not before its delay

    state["now"] = "acknowledged"
    await publish(bus, job(key="42-2-alice", at=datetime.now(UTC)))
    await wait_for(lambda: len(results) == 3)  # its push: at once, nothing to ask
    await wait_for(lambda: steps_settled(bus))  # its sms step looked at and done
    assert [r.key for r in results if r.method == "sms"] == ["42-1-alice.sms"]
    kv = await bus[1].key_value(BUCKET)
    with pytest.raises(KeyNotFoundError):
        await kv.get("42-2-alice.sms")  # never claimed: cancelled before sending


async def steps_settled(bus) -> bool:
    """Every job split and every step acknowledged (gone from the work queue)."""
    _, js = bus
    jobs = await js.consumer_info("NOTIFY", "channels-jobs")
    stream = await js.stream_info("NOTIFY", subjects_filter=wire.SUBJECT_NOTIFY_STEPS)
    steps_left = sum((stream.state.subjects or {}).values())
    return jobs.num_pending == 0 and jobs.num_ack_pending == 0 and steps_left == 0
