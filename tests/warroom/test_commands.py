"""Commands that read only the config: integrations and config check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import AM_TOKEN

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.yaml"


def warroom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "warroom", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_integrations_hide_tokens_unless_asked(config_file):
    hidden = json.loads(
        warroom("integrations", "--config", str(config_file), "--json").stdout
    )
    assert all("<secret>" in entry["url"] for entry in hidden)
    assert AM_TOKEN not in json.dumps(hidden)
    shown = warroom(
        "integrations", "--config", str(config_file), "--json", "--show-tokens"
    )
    by_name = {e["name"]: e for e in json.loads(shown.stdout)}
    assert by_name["prometheus"]["url"].endswith(f"/v1/integrations/{AM_TOKEN}")
    assert by_name["prometheus"]["kind"] == "alertmanager"


def test_demo_config_has_one_integration_of_every_kind():
    from engine.integrations import PARSERS

    listed = json.loads(warroom("integrations", "--config", str(DEMO), "--json").stdout)
    assert {e["kind"] for e in listed} == set(PARSERS)
    pagerduty = next(e for e in listed if e["kind"] == "pagerduty")
    # PagerDuty senders post to one URL and carry the token as routing_key.
    assert "/v2/enqueue" in pagerduty["url"]


def test_config_check_names_every_problem_and_fails(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("services: {db: {team: nobody}}\ndefault_service: db\n")
    done = warroom("config", "check", "--config", str(bad))
    assert done.returncode == 1
    assert f"{bad}: services.db.team: unknown team 'nobody'" in done.stderr
    assert "Traceback" not in done.stderr
    ok = warroom("config", "check", "--config", str(DEMO))
    assert ok.returncode == 0 and "ok (2 teams, 4 users, 3 services" in ok.stdout


def test_up_without_a_config_says_where_to_find_one(tmp_path):
    done = warroom(
        "up", "--config", str(tmp_path / "missing.yaml"), "--data", str(tmp_path)
    )
    assert done.returncode == 1
    assert done.stderr.startswith("warroom: no config at")


def test_the_readme_minimal_config_is_valid(tmp_path):
    readme = (DEMO.parents[1] / "README.md").read_text()
    section = readme.split("smallest complete one", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "warroom.yaml"
    path.write_text("\n".join(line[3:] for line in block.splitlines()))
    done = warroom("config", "check", "--config", str(path))
    assert done.returncode == 0, done.stderr
