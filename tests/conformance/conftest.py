"""The official linklabs-conductor 1.6.4 client, unmodified except its three base-URL properties,
pointed at a simulator served over real HTTP (conductor-api.md §1 recipe).

The 1.6.4 client is synchronous (requests) and computes query windows from ``datetime.utcnow()``,
so these simulators run on the system clock with 30 minutes of history.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

conductor = pytest.importorskip("conductor")
from conductor.account import ConductorAccount  # noqa: E402
from conductor.subject import ConductorSubject  # noqa: E402

from rules_engine.clock import SystemClock  # noqa: E402
from rules_engine.simulator import (  # noqa: E402
    DownlinkConfig,
    DownlinkMode,
    FleetConfig,
    ServiceConfig,
    Simulator,
    SimulatorServer,
)

PAGE_SIZE = 25

assert conductor.CONDUCTOR_LIBRARY_VERSION == "1.6.4", "the conformance oracle is linklabs-conductor 1.6.4"


@pytest.fixture
def simulator() -> Simulator:
    config = FleetConfig.generate(
        devices=30,
        gateways=3,
        app_tokens=2,
        seed=21,
        lte_fraction=0.2,
        history_s=1800,
        downlink_modes={DownlinkMode.ALWAYS: 0.6, DownlinkMode.MAILBOX: 0.25, DownlinkMode.OFF: 0.15},
        service=ServiceConfig(page_size=PAGE_SIZE),
        downlinks=DownlinkConfig(latency_s=0.3),
    )
    return Simulator(config, clock=SystemClock())


@pytest.fixture
def server(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorServer]:
    with SimulatorServer(simulator) as running:
        base = running.base_url
        monkeypatch.setattr(ConductorSubject, "client_edge_url", property(lambda self: base + "/clientEdge"))
        monkeypatch.setattr(ConductorSubject, "network_asset_url", property(lambda self: base + "/networkAsset"))
        monkeypatch.setattr(ConductorSubject, "access_url", property(lambda self: base + "/access"))
        yield running


@pytest.fixture
def account(server: SimulatorServer) -> ConductorAccount:
    return ConductorAccount(server.simulator.username, password=server.simulator.password)
