"""Config validation names every problem by its path."""

from pathlib import Path

import pytest

from engine.config import ConfigError, load_config, parse_config, parse_duration

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.yaml"


def test_demo_config_is_valid():
    config = load_config(DEMO)
    assert (
        len(config.teams) == 2 and len(config.users) == 4 and len(config.services) == 3
    )


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "t.yaml", kinds={"alertmanager", "generic"})
    return caught.value.problems


def test_every_reference_problem_is_reported_at_once():
    problems = problems_of(
        """
teams: {db: {members: [alice, ghost]}}
users: {alice: {name: A}}
services: {orders: {team: nope}}
routes: [{match: ['service=~('], service: missing}]
integrations:
  p: {kind: zabbixx, token: short}
default_service: orders
"""
    )
    expected = [
        "teams.db.members[1]: unknown user 'ghost'",
        "services.orders.team: unknown team 'nope'",
        "routes[0].service: unknown service 'missing'",
        "routes[0].match[0]: bad regular expression",
        "integrations.p.kind: unknown kind 'zabbixx'",
        "integrations.p.token: too short",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in problems), (text, problems)


def test_type_errors_name_their_path():
    problems = problems_of("users: {alice: {name: 3}}\n")
    assert problems[0].startswith("users.alice.name: expected `str`, got `int`")


def test_unknown_fields_and_sections_are_named():
    problems = problems_of("users: {alice: {name: A, pager: x}}\nschedulez: {}\n")
    assert any(p.startswith("schedulez: unknown section") for p in problems)
    assert any("pager" in p for p in problems)


def test_missing_default_service_is_a_problem():
    problems = problems_of("services: {}\n")
    assert problems == [
        "default_service: missing (alerts that match no route need an owner)"
    ]


def test_yaml_syntax_error_names_the_line():
    problems = problems_of("teams: [\n  - a\n b: c\n")
    assert problems[0].startswith("not valid YAML at line")


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_an_unknown_integration_time_zone_is_named():
    problems = problems_of(
        "integrations:\n"
        "  z: {kind: generic, token: 0123456789abcdef, timezone: Mars/Base}\n"
    )
    assert "integrations.z.timezone: unknown time zone 'Mars/Base'" in problems


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # A token goes into a URL: no spaces, slashes or percent signs.
        (
            "integrations: {p: {kind: generic, token: 'sixteen chars w/ /?'}}\n",
            "integrations.p.token: use only letters, digits",
        ),
        (
            "integrations: {p: {kind: generic, token: '                '}}\n",
            "token: use only",
        ),
    ],
)
def test_config_mistakes_yaml_lets_through(text, problem):
    assert any(problem in p for p in problems_of(text)), problems_of(text)


def test_a_config_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("users: {u: {name: Jos\u00e9}}\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [
        "not UTF-8 text (byte 21 is 0xe9)"
    ]  # "users: {u: {name: Jos" is 21 bytes


def test_a_service_high_urgency_names_only_severities():
    problems = problems_of(
        "teams: {t: {}}\nservices: {pay: {team: t, high_urgency: [critical, loud]}}\n"
        "default_service: pay\n"
    )
    assert "services.pay.high_urgency[1]: not a severity 'loud'" in " ".join(problems)
