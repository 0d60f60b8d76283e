"""`warroom config check`: validate a config and name every problem by its path."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from engine.config import ConfigError, load_config
from engine.directory import unreachable_policies
from warroom.common import add_config_option, config_path, out


def register(sub) -> None:
    parser = sub.add_parser("config", help="work with the config file")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    check = verbs.add_parser("check", help="validate a config")
    add_config_option(check)
    check.add_argument("--data", default=None, help=CHECK_DATA_HELP)
    check.set_defaults(run=run_check)


CHECK_DATA_HELP = "data directory whose recorded config to check"


def run_check(args) -> int:
    path = config_path(args)
    try:
        config = load_config(path)
    except ConfigError as err:
        for problem in err.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        return 1
    unreachable = unreachable_policies(config, datetime.now(UTC))
    for problem in unreachable:
        print(f"{path}: {problem}", file=sys.stderr)
    if unreachable:
        return 1
    out(
        f"{path}: ok ({len(config.teams)} teams, {len(config.users)} users, "
        f"{len(config.services)} services, {len(config.routes)} routes, "
        f"{len(config.integrations)} integrations)"
    )
    return 0
