"""Parse throughput of the Alertmanager parser on one 100-alert body, in alerts/s.

    .venv/bin/python bench/parse.py [--alerts 100] [--seconds 3]

The body is synthetic: one group of alerts with Kubernetes-sized label sets,
nine-digit fractions and an offset on `startsAt`, every third one resolved.
The loop is bounded by time and by a round count, whichever comes first.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.integrations import PARSERS, ParseContext

MAX_ROUNDS = 1_000_000


def body_of(count: int) -> bytes:
    """A webhook body of `count` alerts of one group, as Alertmanager sends it."""
    alerts = []
    for i in range(count):
        resolved = i % 3 == 2
        alerts.append(
            {
                "status": "resolved" if resolved else "firing",
                "labels": {
                    "alertname": "KubePodCrashLooping",
                    "cluster": "eu-prod-1",
                    "namespace": "checkout",
                    "pod": f"checkout-7d9f8c6b5-{i:05d}",
                    "container": "api",
                    "instance": f"10.0.{i // 250}.{i % 250}:8080",
                    "job": "kube-state-metrics",
                    "service": "checkout",
                    "severity": "warning",
                },
                "annotations": {
                    "summary": f"Pod checkout/checkout-{i:05d} is crash looping",
                    "description": "Container api restarted 6 times in 10 minutes.",
                    "runbook_url": "https://runbooks.example.internal/k8s/crashloop",
                },
                "startsAt": "2024-10-27T02:14:05.200123456+02:00",
                "endsAt": "2024-10-27T00:20:31.5Z"
                if resolved
                else "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.internal:9090/graph",
                "fingerprint": f"{i:016x}",
            }
        )
    message = {
        "version": "4",
        "status": "firing",
        "receiver": "warroom",
        "groupKey": '{}:{alertname="KubePodCrashLooping"}',
        "groupLabels": {"alertname": "KubePodCrashLooping"},
        "commonLabels": {"alertname": "KubePodCrashLooping"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.internal:9093",
        "truncatedAlerts": 0,
        "alerts": alerts,
    }
    return json.dumps(message).encode()


def measure(body: bytes, seconds: float) -> tuple[int, float]:
    """Parse `body` repeatedly for about `seconds`; (alerts parsed, elapsed)."""
    parse = PARSERS["alertmanager"]
    context = ParseContext("bench", "alertmanager", datetime.now(UTC))
    parsed, started = 0, time.perf_counter()
    for _ in range(MAX_ROUNDS):
        parsed += len(parse(body, context))
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            break
    return parsed, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100, help="alerts per body")
    parser.add_argument("--seconds", type=float, default=3.0, help="time to run")
    args = parser.parse_args()
    body = body_of(args.alerts)
    measure(body, 0.2)  # warm up: regexes compiled, caches filled
    parsed, elapsed = measure(body, args.seconds)
    print(
        f"alertmanager: {parsed / elapsed:,.0f} alerts/s "
        f"({parsed // args.alerts:,} bodies of {args.alerts} alerts, "
        f"{len(body):,} bytes each, in {elapsed:.2f}s)"
    )


if __name__ == "__main__":
    main()
