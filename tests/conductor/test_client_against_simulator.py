"""Our client against the simulator over real HTTP, counted against the simulator's ground truth."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from rules_engine.clock import ManualClock
from rules_engine.conductor import ConductorClient, ConductorURLs, DownlinkMode, RetryPolicy, SubjectType
from rules_engine.errors import AuthenticationError, NotFoundError, RequestRejectedError
from rules_engine.simulator import DEFAULT_PASSWORD, DEFAULT_USERNAME, Faults, FleetConfig, Simulator, SimulatorServer


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock):
    simulator = Simulator(FleetConfig.generate(devices=30, gateways=3, app_tokens=2, seed=7, lte_fraction=0.2), clock=clock)
    simulator.advance(3600)  # an hour of history: ~60 uplinks per module
    with SimulatorServer(simulator) as running:
        yield running


def client_for(server: SimulatorServer, clock: ManualClock, **kwargs) -> ConductorClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=12, base_delay=0.05, max_delay=0.5))
    return ConductorClient(
        DEFAULT_USERNAME, DEFAULT_PASSWORD, urls=ConductorURLs.single_origin(server.base_url),
        clock=clock, rng=random.Random(3), **kwargs,
    )


async def test_account_tokens_gateways_modules(server: SimulatorServer, clock: ManualClock) -> None:
    sim = server.simulator
    async with client_for(server, clock) as client:
        account = await client.account()
        assert account.id == sim.config.account.id
        tokens = await client.app_tokens()
        assert sorted(t.hash for t in tokens) == sorted(sim.app_tokens)
        assert (await client.app_token(sim.app_tokens[0])).hash == sim.app_tokens[0]
        gateways = await client.gateways()
        assert {g.address for g in gateways} >= {g.address for g in sim.config.gateways if g.address.startswith("$101$")}
        modules = await client.modules()
        assert len(modules) == len(sim.config.modules)
        expected_modes = {m.address: int(m.downlink_mode) for m in sim.config.modules}
        assert {m.address: int(m.downlink_mode) for m in modules} == expected_modes
        one = sim.config.modules[0]
        fetched = await client.module(one.address)
        assert fetched.downlink_mode is DownlinkMode(int(one.downlink_mode)) and fetched.app_token == one.app_token
        routes = await client.module_routes(one.address)
        assert routes and all(route.startswith(one.address + "!101!") for route in routes)


async def test_create_app_token(server: SimulatorServer, clock: ManualClock) -> None:
    async with client_for(server, clock) as client:
        created = await client.create_app_token("Greenhouse")
        assert created.name == "Greenhouse" and len(created.hash) == 20
        assert created.hash in {t.hash for t in await client.app_tokens()}


async def test_multi_page_window_matches_ground_truth(server: SimulatorServer, clock: ManualClock) -> None:
    sim = server.simulator
    token = sim.app_tokens[0]
    stop = clock.now() - timedelta(seconds=5)
    start = stop - timedelta(minutes=50)
    truth = sim.uplinks(app_token=token, since=start, until=stop, visible_only=True)
    async with client_for(server, clock, page_size=25, chunk=timedelta(minutes=20)) as client:
        pages = [page async for page in client.uplink_pages(SubjectType.APP_TOKEN, token, start, stop)]
        got = [u async for u in client.uplinks(SubjectType.APP_TOKEN, token, start, stop)]
    assert len(pages) > 5
    assert len(truth) > 100
    assert sorted(u.uuid for u in got) == sorted(r.uuid for r in truth)
    by_uuid = {r.uuid: r for r in truth}
    for uplink in got[:50]:
        record = by_uuid[uplink.uuid]
        assert (uplink.module, uplink.gateway, uplink.port, uplink.payload_hex, uplink.time) == (
            record.module, record.gateway, record.port, record.payload_hex, record.time)


async def test_window_under_faults_loses_and_duplicates_nothing(server: SimulatorServer, clock: ManualClock) -> None:
    """30% 5xx, 429s with Retry-After and timeouts while reading a multi-page window."""
    sim = server.simulator
    token = sim.app_tokens[1]
    stop = clock.now() - timedelta(seconds=5)
    start = stop - timedelta(minutes=45)
    truth = sim.uplinks(app_token=token, since=start, until=stop, visible_only=True)
    sim.set_faults(Faults(error_rate=0.3, rate_limit_rate=0.1, retry_after_s=1, timeout_rate=0.05, timeout_hold_s=1.0))
    async with client_for(server, clock, page_size=20, timeout=0.3,
                          retry=RetryPolicy(max_attempts=30, base_delay=0.01, max_delay=0.05, max_retry_after=2)) as client:
        got = [u async for u in client.uplinks(SubjectType.APP_TOKEN, token, start, stop)]
        retries = client.retries
    sim.set_faults(Faults())
    uuids = [u.uuid for u in got]
    assert len(uuids) == len(set(uuids)), "an uplink came twice"
    assert set(uuids) == {r.uuid for r in truth}, "an uplink was lost"
    assert retries >= 5, "the faults did not bite; the test proves nothing"


async def test_recent_is_sorted_and_bounded(server: SimulatorServer, clock: ManualClock) -> None:
    token = server.simulator.app_tokens[0]
    async with client_for(server, clock) as client:
        recent = await client.recent(SubjectType.APP_TOKEN, token, minutes=10)
    assert recent and [u.time for u in recent] == sorted(u.time for u in recent)
    assert all(clock.now() - timedelta(minutes=10, seconds=2) <= u.time <= clock.now() for u in recent)


async def test_node_subject_and_signal_models(server: SimulatorServer, clock: ManualClock) -> None:
    sim = server.simulator
    lte = next(m for m in sim.config.modules if m.address.startswith("$303$"))
    symphony = next(m for m in sim.config.modules if m.address.startswith("$301$"))
    async with client_for(server, clock) as client:
        lte_uplinks = await client.recent(SubjectType.NODE, lte.address, minutes=30)
        sym_uplinks = await client.recent(SubjectType.NODE, symphony.address, minutes=30)
    assert lte_uplinks and all(u.module == lte.address and u.signal.kind == "lte" for u in lte_uplinks)
    assert sym_uplinks and all(u.signal.kind == "symphony" and u.signal.rssi is not None for u in sym_uplinks)


async def test_downlinks_of_every_kind_reach_ground_truth(server: SimulatorServer, clock: ManualClock) -> None:
    sim = server.simulator
    token = sim.app_tokens[0]
    gateway = sim.config.modules_of(token)[0].gateways[0]
    module = next(m for m in sim.config.modules_of(token) if m.downlink_mode == 1)
    async with client_for(server, clock) as client:
        plain = await client.multicast(token, b"\x00\x00\x00\x2a\x01", port=10, ttl_s=30)
        routed = await client.multicast(token, "0000002B01", gateways=[gateway], port=10)
        unicast = await client.unicast(module.address, b"\x05", port=3)
        broadcast = await client.gateway_broadcast(gateway, b"\x06")
        records = {r.issuance_id: r for r in sim.commands()}
        assert records[plain.issuance_id].kind == "app_token_multicast"
        assert records[plain.issuance_id].payload_hex == "0000002A01" and records[plain.issuance_id].port == 10
        assert records[routed.issuance_id].kind == "gateway_multicast"
        assert records[routed.issuance_id].routes == [f"{'$401$'}{token[:8]}-{token[8:16]}-0-{token[16:].rjust(9, '0')}!101!{gateway}"]
        assert records[unicast.issuance_id].kind == "unicast" and records[unicast.issuance_id].acked
        assert records[broadcast.issuance_id].kind == "gateway_broadcast"
        clock.advance(5)
        status = await client.command_status(unicast.issuance_id)
        assert status.succeeded, status.text
        command = await client.command(routed.issuance_id)
        assert command.routes == tuple(records[routed.issuance_id].routes)
        events = await client.route_events(routed.issuance_id, command.routes[0])
        assert [e.state for e in events][0] == "Issued"
        history = await client.past_commands(SubjectType.APP_TOKEN, token, clock.now() - timedelta(minutes=5))
        assert {plain.issuance_id, routed.issuance_id} <= {c.issuance_id for c in history}


async def test_cancel_a_pending_unicast(server: SimulatorServer, clock: ManualClock) -> None:
    sim = server.simulator
    mailbox = next((m for m in sim.config.modules if m.downlink_mode == 2), None)
    assert mailbox is not None
    async with client_for(server, clock) as client:
        command = await client.unicast(mailbox.address, b"\x01", ttl_s=600)
        assert (await client.command_status(command.issuance_id)).pending
        await client.cancel(command.issuance_id)
        assert "Cancel" in (await client.command_status(command.issuance_id)).text
    assert sim.command(command.issuance_id).cancelled


async def test_errors_from_the_simulator(server: SimulatorServer, clock: ManualClock) -> None:
    async with ConductorClient("demo@example.com", "wrong", urls=ConductorURLs.single_origin(server.base_url), clock=clock) as bad:
        with pytest.raises(AuthenticationError):
            await bad.account()
    async with client_for(server, clock) as client:
        with pytest.raises(NotFoundError):
            await client.module("$301$0-0-0-0deadbeef")
        with pytest.raises(RequestRejectedError):
            # the client clamps stop times; ask the server directly for a future window
            await client._http.request(
                "GET", f"{client.urls.client_edge}/data/uplinkPayload/applicationToken/{server.simulator.app_tokens[0]}"
                f"/events/2999-01-01T00:00:00.000/2026-01-01T00:00:00.000")
