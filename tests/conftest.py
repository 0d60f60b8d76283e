"""Shared fixtures: a real nats-server, real SQLite and PostgreSQL, a running stack."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from engine.config import Config, parse_config
from warroom.stack import Settings, Stack

SHARED = Path(__file__).resolve().parents[2] / "shared"
CASES = SHARED / "cases"
PAYLOADS = CASES / "payloads"
REAL = CASES / "real"

AM_TOKEN = "test-alertmanager-token-0001"
GENERIC_TOKEN = "test-generic-token-000000001"
# One integration of every other kind. PagerDuty's is the routing_key of the
# shared trigger case, so that case posts to /v2/enqueue as it is.
SOURCE_TOKENS = {
    "grafana": "test-grafana-token-00000001",
    "zabbix": "test-zabbix-token-000000001",
    "nightingale": "test-nightingale-token-0001",
    "cloudwatch_sns": "test-cloudwatch-token-00001",
    "azure_monitor": "test-azure-token-0000000001",
    "gcp_monitoring": "test-gcp-token-000000000001",
    "datadog": "test-datadog-token-00000001",
    "uptime_kuma": "test-uptime-kuma-token-0001",
    "pagerduty": "R0000000000000000000000000000EXA",
}
PG_URL = os.environ.get(
    "WARROOM_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

TEST_CONFIG = f"""
teams:
  database: {{members: [alice, bob]}}
  web: {{members: [carol, dave]}}
users:
  alice: {{name: Alice, logins: [alice]}}
  bob: {{name: Bob, logins: [bob]}}
  carol: {{name: Carol}}
  dave: {{name: Dave}}
services:
  db: {{team: database}}
  checkout: {{team: web}}
  edge: {{team: web}}
routes:
  - match: ['service=~db|orders-db']
    service: db
  - match: ['service=checkout']
    service: checkout
default_service: edge
integrations:
  prometheus: {{kind: alertmanager, token: {AM_TOKEN}}}
  scripts: {{kind: generic, token: {GENERIC_TOKEN}}}
  grafana: {{kind: grafana, token: {SOURCE_TOKENS["grafana"]}}}
  zabbix:
    kind: zabbix
    token: {SOURCE_TOKENS["zabbix"]}
    timezone: Asia/Shanghai
  n9e: {{kind: nightingale, token: {SOURCE_TOKENS["nightingale"]}}}
  cloudwatch: {{kind: cloudwatch_sns, token: {SOURCE_TOKENS["cloudwatch_sns"]}}}
  azure: {{kind: azure_monitor, token: {SOURCE_TOKENS["azure_monitor"]}}}
  gcp: {{kind: gcp_monitoring, token: {SOURCE_TOKENS["gcp_monitoring"]}}}
  datadog: {{kind: datadog, token: {SOURCE_TOKENS["datadog"]}}}
  kuma: {{kind: uptime_kuma, token: {SOURCE_TOKENS["uptime_kuma"]}}}
  pagerduty: {{kind: pagerduty, token: {SOURCE_TOKENS["pagerduty"]}}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def config() -> Config:
    return parse_config(TEST_CONFIG, "test.yaml")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "warroom.yaml"
    path.write_text(TEST_CONFIG)
    return path


async def wait_for(predicate, timeout: float = 10.0, interval: float = 0.01):
    """Poll `predicate` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met in {timeout}s")
        await asyncio.sleep(interval)


@pytest.fixture
async def stack(tmp_path: Path, config: Config) -> AsyncIterator[Stack]:
    """`warroom up` in this process: embedded nats-server, SQLite, gateway."""
    settings = Settings(config=config, data_dir=tmp_path / "data", http_port=0)
    running = Stack(settings)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def gateway_url(stack: Stack, token: str = AM_TOKEN) -> str:
    s = stack.settings
    return f"http://{s.http_host}:{s.http_port}/v1/integrations/{token}"


async def _postgres_reachable() -> str | None:
    import asyncpg

    dsn = PG_URL.replace("postgresql+asyncpg", "postgresql")
    try:
        conn = await asyncio.wait_for(asyncpg.connect(dsn), 3)
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    await conn.close()
    return None


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database; skipped (failed under CI) when none is reachable."""
    problem = await _postgres_reachable()
    if problem:
        message = f"no PostgreSQL at {PG_URL} ({problem})"
        if os.environ.get("WARROOM_REQUIRE_POSTGRES"):
            pytest.fail(message + " and WARROOM_REQUIRE_POSTGRES is set")
        pytest.skip(message)
    import asyncpg

    name = f"warroom_{secrets.token_hex(4)}"
    dsn = PG_URL.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        conn = await asyncpg.connect(dsn)
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()
