"""`warroom test-notify`: a test page through each method, each result shown."""

import json

import pytest

from tests.channels.conftest import ALICE_PHONE, delivery_config
from warroom.cli import build_parser
from warroom.common import Failure


@pytest.fixture
def config_file(tmp_path, receiver, fake_plivo):
    path = tmp_path / "warroom.yaml"
    path.write_text(delivery_config(receiver, fake_plivo))
    return path


async def run_test_notify(config_file, *argv):
    args = build_parser().parse_args(
        ["test-notify", *argv, "--config", str(config_file)]
    )
    return await args.run(args)


async def test_every_method_of_a_user_gets_a_test_page(
    config_file, receiver, fake_plivo, capsys
):
    code = await run_test_notify(config_file, "alice", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(r["method"], r["channel"], r["result"]) for r in rows] == [
        ("push", "apprise", "delivered"),
        ("sms", "sms", "delivered"),
        ("phone", "voice", "delivered"),
    ]
    assert receiver.at("alice")[0]["title"] == "warroom test page"
    assert fake_plivo.messages[0]["text"] == "warroom test page: your phone works."
    assert "incident=0" in fake_plivo.calls[0]["answer_url"]


async def test_one_method_and_a_failure_is_reported(
    config_file, receiver, fake_plivo, capsys
):
    receiver.failures = 1
    code = await run_test_notify(config_file, "alice", "--method", "push")
    shown = capsys.readouterr().out
    assert code == 1
    assert "push" in shown and "failed" in shown and "500" in shown
    assert "json://" not in shown and ALICE_PHONE not in shown
    assert fake_plivo.messages == []  # only the method asked for


async def test_an_unknown_method_names_the_known_ones(config_file):
    with pytest.raises(Failure, match=r"alice has no method 'pager' \(has: push, sms"):
        await run_test_notify(config_file, "alice", "--method", "pager")
