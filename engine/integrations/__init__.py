"""One parser per monitoring source: bytes and integration config in, alerts out.

Every parser is a pure function `parse(body, context) -> list[Alert]` that
raises `PayloadRejected` naming each bad field. An empty list means the body
was understood and carries nothing to act on (a test button, a state that is
neither firing nor resolved); the parser says why in `context.notes`.
"""

from __future__ import annotations

from collections.abc import Callable

from bus.wire import Alert
from engine.integrations import (
    alertmanager,
    azure_monitor,
    cloudwatch_sns,
    datadog,
    gcp_monitoring,
    generic,
    grafana,
    nightingale,
    pagerduty,
    uptime_kuma,
    zabbix,
)
from engine.integrations.base import ParseContext, PayloadRejected

Parser = Callable[[bytes, ParseContext], list[Alert]]

PARSERS: dict[str, Parser] = {
    "alertmanager": alertmanager.parse,
    "grafana": grafana.parse,
    "zabbix": zabbix.parse,
    "nightingale": nightingale.parse,
    "cloudwatch_sns": cloudwatch_sns.parse,
    "azure_monitor": azure_monitor.parse,
    "gcp_monitoring": gcp_monitoring.parse,
    "datadog": datadog.parse,
    "uptime_kuma": uptime_kuma.parse,
    "pagerduty": pagerduty.parse,
    "generic": generic.parse,
}

__all__ = ["PARSERS", "ParseContext", "Parser", "PayloadRejected"]
