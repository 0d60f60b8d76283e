"""`warroom integrations`: the configured sources and the URL each posts to."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from warroom.common import (
    DEFAULT_HTTP,
    add_bus_options,
    add_config_option,
    data_dir,
    load,
    out,
    table,
)


def register(sub) -> None:
    parser = sub.add_parser(
        "integrations", help="list configured integrations and their URLs"
    )
    add_config_option(parser)
    add_bus_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--show-tokens", action="store_true", help="print the tokens in the URLs"
    )
    parser.set_defaults(run=run)


def _url(base: str, kind: str, token: str) -> str:
    # PagerDuty senders post to one URL and carry the token as routing_key.
    if kind == "pagerduty":
        return f"{base}/v2/enqueue (routing_key {token})"
    return f"{base}/v1/integrations/{token}"


def _base_url(config, data: Path) -> str:
    """`gateway.public_url`, else where `up` listens, else the default address."""
    if config.gateway.public_url:
        return config.gateway.public_url.rstrip("/")
    try:
        listening = (data / "http.url").read_text().strip()
    except OSError:
        return f"http://{DEFAULT_HTTP}"
    # An address bound on every interface is no URL to paste: name this host.
    return listening.replace("://0.0.0.0:", f"://{socket.getfqdn()}:")


def run(args) -> int:
    config = load(args)
    base = _base_url(config, data_dir(args))
    entries = []
    for name, integration in config.integrations.items():
        token = integration.token if args.show_tokens else "<secret>"
        entries.append(
            {
                "name": name,
                "kind": integration.kind,
                "service": integration.service,
                "url": _url(base, integration.kind, token),
            }
        )
    if args.json:
        out(json.dumps(entries, indent=2))
    else:
        rows = [[e["name"], e["kind"], e["service"] or "-", e["url"]] for e in entries]
        out(table(rows, ["NAME", "KIND", "SERVICE", "URL"]))
    return 0
