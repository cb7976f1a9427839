"""Fixtures for simulator tests: a ManualClock, a small seeded fleet, an in-process HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from rules_engine.clock import ManualClock
from rules_engine.conductor.timefmt import format_time
from rules_engine.simulator import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    DownlinkMode,
    FleetConfig,
    Simulator,
    create_app,
)

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
AUTH = (DEFAULT_USERNAME, DEFAULT_PASSWORD)


def t(value: datetime) -> str:
    """Conductor path time."""
    return format_time(value)


def window(sim: Simulator, minutes: float = 60, stop_offset_s: float = 0) -> str:
    """``{STOP}/{START}`` covering the last ``minutes`` up to server now (+ offset)."""
    now = sim.now()
    return f"{t(now + timedelta(seconds=stop_offset_s))}/{t(now - timedelta(minutes=minutes))}"


def unicast_body(module: str, payload: str = "0000002A01", port: int = 3, acked: bool = True, ttl_ms: int = 60000) -> dict:
    ratio = 2.220446049250313e-16 if acked else 0
    return {
        "commandTargets": {"targetNodeAddresses": [module]},
        "commandProperties": {
            "payloadHex": payload,
            "commReqs": {
                "requiredAckRatio": ratio,
                "requiredSuccessfulAckRatio": ratio,
                "priority": 10,
                "ttlMSecs": ttl_ms,
                "portNumber": port,
            },
        },
    }


def with_target(body: dict, **block: object) -> dict:
    """``body`` with its target/route block replaced."""
    out = {"commandProperties": body["commandProperties"]}
    out.update(block)
    return out


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def config() -> FleetConfig:
    return FleetConfig.generate(
        devices=30,
        gateways=3,
        app_tokens=2,
        seed=11,
        max_gateways_per_module=2,
        downlink_modes={DownlinkMode.ALWAYS: 0.5, DownlinkMode.MAILBOX: 0.3, DownlinkMode.OFF: 0.2},
    )


@pytest.fixture
def sim(config: FleetConfig, clock: ManualClock) -> Simulator:
    return Simulator(config, clock=clock)


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(sim))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.test", auth=AUTH) as http:
        yield http
