"""SimulatorServer over real HTTP: fast start and stop, free ports, raw and encoded `$`/`!`."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from rules_engine.clock import ManualClock
from rules_engine.simulator import Faults, FleetConfig, Simulator, SimulatorServer

from .conftest import AUTH, T0, window


def test_start_and_stop_are_fast() -> None:
    sim = Simulator(FleetConfig.generate(devices=10, seed=1), clock=ManualClock(T0))
    started = time.perf_counter()
    server = SimulatorServer(sim).start()
    assert time.perf_counter() - started < 0.5
    try:
        assert server.base_url == f"http://127.0.0.1:{server.port}" and server.port > 0
        assert server.simulator is sim
        response = httpx.get(server.base_url + "/access/accounts", auth=AUTH)
        assert response.status_code == 200 and response.json()[0]["id"] == "4711"
    finally:
        stopping = time.perf_counter()
        server.stop()
    assert time.perf_counter() - stopping < 1.0
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.base_url + "/access/accounts", auth=AUTH, timeout=1)


def test_many_servers_at_once() -> None:
    servers = [SimulatorServer(config=FleetConfig.generate(devices=3, seed=i)) for i in range(4)]
    for server in servers:
        server.start()
    try:
        assert len({s.port for s in servers}) == 4
        for server in servers:
            assert httpx.get(server.base_url + "/networkAsset/gateways", auth=server.auth).status_code == 200
    finally:
        for server in servers:
            server.stop()


def test_context_manager_and_percent_encoding() -> None:
    clock = ManualClock(T0)
    sim = Simulator(FleetConfig.generate(devices=5, seed=2), clock=clock)
    clock.advance(300)
    module = sim.config.modules[0].address
    with SimulatorServer(sim) as server, httpx.Client(base_url=server.base_url, auth=AUTH) as client:
        raw = client.get(f"/clientEdge/data/uplinkPayload/node/{module}/events/{window(sim)}")
        encoded_path = f"/clientEdge/data/uplinkPayload/node/{module.replace('$', '%24')}/events/{window(sim)}"
        encoded = client.get(httpx.URL(server.base_url + encoded_path))
        assert raw.status_code == encoded.status_code == 200
        assert raw.json()["results"] == encoded.json()["results"] and raw.json()["results"]
        routes = client.get(f"/clientEdge/module/{module}/routes").json()
        assert routes


def test_stop_releases_requests_held_by_the_timeout_fault() -> None:
    server = SimulatorServer(config=FleetConfig.generate(devices=2), faults=Faults(timeout_rate=1.0, timeout_hold_s=60)).start()
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(httpx.get(server.base_url + "/access/accounts", auth=AUTH, timeout=30).status_code)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    with pytest.raises(httpx.ReadTimeout):
        httpx.get(server.base_url + "/access/accounts", auth=AUTH, timeout=0.3)
    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.2)
    started = time.perf_counter()
    server.stop()
    worker.join(5)
    assert time.perf_counter() - started < 2.0
    assert outcome and not worker.is_alive()


def test_keep_alive_requests_do_not_stall() -> None:
    """Regression: without TCP_NODELAY each response waited ~40 ms for a delayed ACK."""
    with SimulatorServer(config=FleetConfig.generate(devices=2)) as server, httpx.Client(
        base_url=server.base_url, auth=AUTH
    ) as client:
        client.get("/access/accounts")
        started = time.perf_counter()
        for _ in range(20):
            assert client.get("/access/accounts").status_code == 200
        assert (time.perf_counter() - started) / 20 < 0.02
