"""Grafana unified alerting's webhook contact point (version 1).

The body is Alertmanager's message plus `orgId`, `title`, `state` and
`message`, and each alert adds URLs, `values` and `valueString`; identity,
recovery and times follow Alertmanager's. Grafana's own `DatasourceNoData`
and `DatasourceError` alerts carry a generic alertname: their title comes
from `labels.rulename`, and a no-data alert is marked with `no_data=true`.
The legacy (pre-unified) format, with `ruleId`/`evalMatches` and no
`alerts[]`, is rejected with a message saying so.
"""

from __future__ import annotations

from typing import Any

import msgspec

from bus.wire import Alert
from engine.integrations.alertmanager import AlertItem, group_of, to_alert
from engine.integrations.base import ParseContext, decode_struct, reject

_GRAFANA_ALERTS = {
    "DatasourceNoData": "no data",
    "DatasourceError": "datasource error",
}


class _Body(msgspec.Struct):
    alerts: list[AlertItem] | None = None
    version: str = "1"
    status: str = ""
    groupKey: str = ""
    groupLabels: dict[str, str] = {}
    commonAnnotations: dict[str, str] = {}
    title: str = ""
    state: str = ""
    ruleId: Any = None
    evalMatches: Any = None


_decoder = msgspec.json.Decoder(_Body)


def parse(body: bytes, context: ParseContext) -> list[Alert]:
    """Yield every alert of the notification, firing and resolved mixed."""
    message = decode_struct(body, _decoder)
    if message.alerts is None:
        raise _missing_alerts(message)
    group = group_of(message.groupKey, message.groupLabels, message.commonAnnotations)
    alerts = []
    for i, item in enumerate(message.alerts):
        item = _marked(item)
        title = _title(item)
        alerts.append(to_alert(item, f"alerts[{i}]", group, context, "grafana", title))
    return alerts


def _missing_alerts(message: _Body):
    if message.ruleId is not None or message.evalMatches is not None:
        return reject(
            "alerts",
            "missing: this is Grafana's legacy alerting webhook (ruleId, "
            "evalMatches); send from a unified alerting contact point instead",
        )
    return reject("alerts", "missing required field 'alerts'")


def _marked(item: AlertItem) -> AlertItem:
    labels = item.labels or {}
    if labels.get("alertname") != "DatasourceNoData":
        return item
    return msgspec.structs.replace(item, labels={**labels, "no_data": "true"})


def _title(item: AlertItem) -> str | None:
    """The summary, else for Grafana's own alerts the rule's name and what failed."""
    labels = item.labels or {}
    if (item.annotations or {}).get("summary"):
        return None  # the Alertmanager rule: summary, else alertname
    what = _GRAFANA_ALERTS.get(labels.get("alertname", ""))
    rule = labels.get("rulename")
    if what and rule:
        return f"{rule}: {what}"
    return None
