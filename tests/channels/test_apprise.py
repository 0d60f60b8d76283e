"""Real apprise delivering to a local HTTP receiver."""

import pytest

from channels.apprise import AppriseSender
from channels.contacts import Method
from channels.page import DeliveryFailed, Page
from engine.config import ConfigError, parse_config
from tests.conftest import TEST_CONFIG

PAGE = Page(42, "disk full on db-3", "critical")


async def test_a_page_arrives_with_its_headline(receiver):
    method = Method("push", "apprise", receiver.url("alice"))
    await AppriseSender().send(method, PAGE)
    [body] = receiver.at("alice")
    assert body["title"] == "[critical] disk full on db-3 (incident 42)"
    assert body["type"] == "failure"  # critical pages look like failures


async def test_a_failing_receiver_gives_a_reason_without_the_secret(receiver):
    receiver.failures = 1
    url = receiver.url("hooks/s3cr3t-webhook-token")
    with pytest.raises(DeliveryFailed) as failed:
        await AppriseSender().send(Method("push", "apprise", url), PAGE)
    assert failed.value.retryable
    assert "500" in failed.value.reason  # the provider's status is the reason
    assert "s3cr3t" not in failed.value.reason
    assert receiver.received == []


async def test_an_unloadable_url_is_not_retried():
    with pytest.raises(DeliveryFailed) as failed:
        await AppriseSender().send(Method("push", "apprise", "nope://x"), PAGE)
    assert not failed.value.retryable


def test_config_check_names_user_and_method_but_not_the_url():
    text = TEST_CONFIG.replace(
        "carol: {name: Carol}",
        "carol: {name: Carol, contact_methods: "
        "{chat: {apprise: 'nosuchservice://tok-9f8e7d6c5b'}}}",
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text, "test.yaml")
    [problem] = err.value.problems
    assert problem.startswith("users.carol.contact_methods.chat.apprise: ")
    assert "apprise cannot load this URL" in problem
    assert "tok-9f8e7d6c5b" not in str(err.value)


@pytest.mark.parametrize(
    ("methods", "expected"),
    [
        # two kinds at once: which one would the rule use?
        ("{x: {sms: '+15550100', voice: '+15550100'}}", "exactly one of"),
        # a number that is no number: caught before a provider charges for it
        ("{x: {sms: 'call me'}}", "expected a phone number"),
    ],
)
def test_config_check_of_contact_methods(methods, expected):
    text = (
        TEST_CONFIG.replace(
            "carol: {name: Carol}",
            f"carol: {{name: Carol, contact_methods: {methods}}}",
        )
        + "plivo: {auth_id: MAFAKE00000000000001, auth_token: t, number: '+1555010'}\n"
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text, "test.yaml")
    assert expected in str(err.value)
    assert "users.carol.contact_methods.x" in str(err.value)


def test_config_check_needs_plivo_for_sms_and_a_known_method_in_rules():
    text = TEST_CONFIG.replace(
        "carol: {name: Carol}",
        "carol: {name: Carol, contact_methods: {text: {sms: '+15550100'}}, "
        "notification_rules: {high: [{method: call, delay: 2m}]}}",
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text, "test.yaml")
    problems = err.value.problems
    assert any(p.startswith("plivo: missing") for p in problems)
    assert (
        "users.carol.notification_rules.high[0].method: unknown contact method 'call'"
        in problems
    )
