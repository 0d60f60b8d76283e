"""`warroom parse`: a saved body through its parser, offline, as a user runs it."""

from __future__ import annotations

import json

from tests.conftest import PAYLOADS
from warroom.cli import main

ZABBIX = PAYLOADS / "zabbix"


def test_accepted_alerts_are_printed_as_json(capsys):
    args = ["parse", "--kind", "zabbix", "--timezone", "Asia/Shanghai", "--json"]
    assert main([*args, str(ZABBIX / "recovery.json")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["outcome"] == "accept"
    [alert] = printed["alerts"]
    # The problem's id, not the recovery's; times in UTC from Shanghai's clock.
    assert (alert["dedup_key"], alert["status"]) == ("8812047", "resolved")
    assert alert["ends_at"] == "2024-03-10T07:02:41Z"


def test_a_rejection_exits_non_zero_naming_each_problem(capsys):
    assert (
        main(["parse", "--kind", "zabbix", str(ZABBIX / "malformed-event-value.json")])
        == 1
    )
    err = capsys.readouterr().err
    assert "rejected (HTTP 422)" in err
    assert "event_id: event_id is empty" in err and "event_value:" in err


def test_an_ignored_body_says_why(capsys):
    body = PAYLOADS / "cloudwatch_sns" / "subscription-confirmation.json"
    assert main(["parse", "--kind", "cloudwatch_sns", str(body)]) == 0
    assert capsys.readouterr().out.startswith("ignored: SNS SubscriptionConfirmation")


def test_a_configured_integration_gives_the_kind_and_the_zone(tmp_path, capsys):
    config = tmp_path / "warroom.yaml"
    config.write_text(
        "teams: {t: {}}\nservices: {s: {team: t}}\ndefault_service: s\n"
        "integrations:\n  zbx: {kind: zabbix, token: a-zabbix-token-0001, "
        "timezone: America/New_York}\n"
    )
    args = ["parse", "--config", str(config), "--integration", "zbx", "--json"]
    assert main([*args, str(ZABBIX / "problem.json")]) == 0
    [alert] = json.loads(capsys.readouterr().out)["alerts"]
    # 14:30 in New York on 10 March (EDT, UTC-4) is 18:30 UTC.
    assert alert["starts_at"] == "2024-03-10T18:30:00Z"
    assert main([*args[:-1], "--kind", "grafana", str(ZABBIX / "problem.json")]) == 1
    assert "integration 'zbx' is zabbix" in capsys.readouterr().err


def test_without_a_kind_it_says_how_to_name_one(capsys):
    assert main(["parse", str(ZABBIX / "problem.json")]) == 1
    assert "--kind KIND, or --integration NAME" in capsys.readouterr().err
