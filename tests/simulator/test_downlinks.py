"""Downlinks: the four kinds, validation, delivery rules per mode and gateway, status, acks, loss."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from rules_engine.clock import ManualClock
from rules_engine.conductor.addresses import BROADCAST_MODULE, app_token_node_address
from rules_engine.simulator import (
    AckReplyConfig,
    DownlinkConfig,
    DownlinkMode,
    FleetConfig,
    Simulator,
    create_app,
)

from .conftest import AUTH, T0, t, unicast_body, with_target

CE = "/clientEdge"


def _multicast(token: str) -> dict:
    return with_target(unicast_body("x", acked=False), commandTargets={"targetAppToken": token})


def _routes(*links: str) -> dict:
    return with_target(unicast_body("x", acked=False), commandRoutes={"linkAddresses": list(links)})


def _always(sim: Simulator, token: str | None = None) -> set[str]:
    return {m.address for m in sim.config.modules_with_mode(DownlinkMode.ALWAYS, token)}


async def _issue(client: httpx.AsyncClient, body: dict) -> dict:
    response = await client.post(f"{CE}/issueCommand", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def _status(client: httpx.AsyncClient, issuance_id: str) -> str:
    return (await client.get(f"{CE}/issuedCommand/{issuance_id}/status")).json()["status"]


async def test_app_token_multicast_reaches_always_on_modules(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    token = sim.app_tokens[0]
    issued = await _issue(client, _multicast(token))
    assert issued["issuanceTime"] == "2026-01-01T00:00:00.000"
    assert issued["commandTargets"] == {"targetAppToken": token}
    assert issued["commandProperties"]["commReqs"]["portNumber"] == 3
    node = app_token_node_address(token)
    assert issued["routeAssignments"] and all(r["assignedLink"].startswith(node + "!101!$101$") for r in issued["routeAssignments"])
    assert await _status(client, issued["issuanceId"]) == "Pending"
    clock.advance(1)
    assert await _status(client, issued["issuanceId"]) == "Success"
    record = sim.command(issued["issuanceId"])
    assert record.kind == "app_token_multicast" and record.app_token == token and not record.acked
    assert set(record.eligible) == record.delivered_modules == _always(sim, token)
    assert all(d.time == T0 + timedelta(seconds=1) for d in record.deliveries)


async def test_gateway_multicast_reaches_only_modules_heard_by_that_gateway(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    token = sim.app_tokens[0]
    gateway = sim.config.gateways[1].address
    issued = await _issue(client, _routes(f"{app_token_node_address(token)}!101!{gateway}"))
    clock.advance(1)
    record = sim.command(issued["issuanceId"])
    expected = {m.address for m in sim.config.modules_with_mode(DownlinkMode.ALWAYS, token) if gateway in m.gateways}
    assert record.kind == "gateway_multicast" and expected
    assert record.delivered_modules == expected
    assert expected < _always(sim, token)
    assert all(d.gateway == gateway for d in record.deliveries)


async def test_gateway_multicast_through_several_gateways(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    token = sim.app_tokens[1]
    gateways = [g.address for g in sim.config.gateways[:2]]
    node = app_token_node_address(token)
    issued = await _issue(client, _routes(*(f"{node}!101!{g}" for g in gateways)))
    assert len(issued["routeAssignments"]) == 2
    clock.advance(1)
    expected = {m.address for m in sim.config.modules_with_mode(DownlinkMode.ALWAYS, token) if set(m.gateways) & set(gateways)}
    assert sim.command(issued["issuanceId"]).delivered_modules == expected


async def test_gateway_broadcast_reaches_always_on_modules_of_every_token(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    gateway = sim.config.gateways[0].address
    issued = await _issue(client, _routes(f"{BROADCAST_MODULE}!101!{gateway}"))
    clock.advance(1)
    record = sim.command(issued["issuanceId"])
    expected = {m.address for m in sim.config.modules_with_mode(DownlinkMode.ALWAYS) if gateway in m.gateways}
    assert record.kind == "gateway_broadcast" and record.status == "Success"
    assert record.delivered_modules == expected
    assert len({m.app_token for m in sim.config.modules if m.address in expected}) == 2


async def test_unicast_to_always_on_module_is_acknowledged(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(300)  # the module must have been heard to have routes
    module = sim.config.modules_with_mode(DownlinkMode.ALWAYS)[0].address
    routes = (await client.get(f"{CE}/module/{module}/routes")).json()
    assert routes and all(r.startswith(module + "!101!$101$") for r in routes)
    issued = await _issue(client, unicast_body(module))
    assert [r["assignedLink"] for r in issued["routeAssignments"]] == routes
    assert await _status(client, issued["issuanceId"]) == "Pending"
    clock.advance(1)
    assert await _status(client, issued["issuanceId"]) == "Acknowledged"
    link = routes[0]
    detail = (await client.get(f"{CE}/issuedCommand/{issued['issuanceId']}/statusDetail/{link}")).json()
    assert detail["routeAssignment"]["assignedLink"] == link
    assert [e["state"] for e in detail["downlinkEvents"]] == ["Issued", "Submitting", "Submitted", "Sending", "Sent"]
    full = (await client.get(f"{CE}/issuedCommand/{issued['issuanceId']}")).json()
    assert full == issued


async def test_unicast_status_progresses_with_the_clock(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(300)
    module = sim.config.modules_with_mode(DownlinkMode.ALWAYS)[0].address
    issued = await _issue(client, unicast_body(module))
    link = issued["routeAssignments"][0]["assignedLink"]
    url = f"{CE}/issuedCommand/{issued['issuanceId']}/statusDetail/{link.replace('$', '%24').replace('!', '%21')}"
    states = [e["state"] for e in (await client.get(url)).json()["downlinkEvents"]]
    assert states == ["Issued"]
    clock.advance(0.35)
    states = [e["state"] for e in (await client.get(url)).json()["downlinkEvents"]]
    assert states == ["Issued", "Submitting", "Submitted"]


async def test_unicast_to_mailbox_module_waits_for_its_next_uplink(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(300)
    module = sim.config.modules_with_mode(DownlinkMode.MAILBOX)[0].address
    issued = await _issue(client, unicast_body(module, ttl_ms=600_000))
    clock.advance(1)
    assert await _status(client, issued["issuanceId"]) == "Pending"
    issued_at = T0 + timedelta(seconds=300)
    for _ in range(80):  # the interval is 60 s +- 6 s
        if sim.uplinks(module=module, since=issued_at):
            break
        assert await _status(client, issued["issuanceId"]) == "Pending"
        clock.advance(1)
    next_uplink = sim.uplinks(module=module, since=issued_at)[0].time
    assert await _status(client, issued["issuanceId"]) == "Acknowledged"
    record = sim.command(issued["issuanceId"])
    assert [d.time for d in record.deliveries] == [next_uplink]
    asset = (await client.get(f"/networkAsset/module/{module}")).json()
    props = asset["assetInfo"]["metadata"]["props"]
    assert props["downlinkMode"] == "2" and props["mailboxRequestTime"] == t(next_uplink)
    assert props["downlinkUnicastCount"] == "1"


async def test_mailbox_module_that_stays_silent_expires(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(300)
    module = sim.config.modules_with_mode(DownlinkMode.MAILBOX)[0].address
    issued = await _issue(client, unicast_body(module, ttl_ms=2000))
    clock.advance(2)
    assert await _status(client, issued["issuanceId"]) == "Expired"
    detail = (await client.get(f"{CE}/issuedCommand/{issued['issuanceId']}/statusDetail/{issued['routeAssignments'][0]['assignedLink']}")).json()
    assert [e["state"] for e in detail["downlinkEvents"]] == ["Issued", "Submitting", "Submitted", "Expired"]


@pytest.mark.parametrize(("acked", "final"), [(True, "Expired"), (False, "Success")])
async def test_unicast_to_mode_off_module_never_arrives(
    sim: Simulator, client: httpx.AsyncClient, clock: ManualClock, acked: bool, final: str
) -> None:
    clock.advance(300)
    module = sim.config.modules_with_mode(DownlinkMode.OFF)[0].address
    issued = await _issue(client, unicast_body(module, acked=acked, ttl_ms=10_000))
    clock.advance(10)
    assert await _status(client, issued["issuanceId"]) == final
    assert sim.command(issued["issuanceId"]).deliveries == []


async def test_unicast_to_module_never_heard_fails(sim: Simulator, client: httpx.AsyncClient) -> None:
    module = sim.config.modules[0].address
    issued = await _issue(client, unicast_body(module))
    assert issued["routeAssignments"] == []
    assert await _status(client, issued["issuanceId"]) == "Failed"


async def test_pinned_unicast_through_a_gateway_that_does_not_hear_it(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    module = next(m for m in sim.config.modules_with_mode(DownlinkMode.ALWAYS) if len(m.gateways) < 3)
    deaf = next(g.address for g in sim.config.gateways if g.address not in module.gateways)
    heard = module.gateways[0]
    bad = await _issue(client, with_target(unicast_body("x"), commandRoutes={"linkAddresses": [f"{module.address}!101!{deaf}"]}))
    good = await _issue(client, with_target(unicast_body("x"), commandRoutes={"linkAddresses": [f"{module.address}!101!{heard}"]}))
    clock.advance(60)
    assert await _status(client, bad["issuanceId"]) == "Expired"
    assert await _status(client, good["issuanceId"]) == "Acknowledged"
    assert sim.command(good["issuanceId"]).kind == "unicast_pinned"


async def test_ack_reply_uplinks(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    token = sim.app_tokens[0]
    body = _multicast(token)
    body["commandProperties"]["payloadHex"] = "0000002A0102"
    issued = await _issue(client, body)
    clock.advance(1)
    assert sim.uplinks(kind="ack") == []
    clock.advance(2)  # default delay 2 s after delivery
    acks = sim.uplinks(kind="ack")
    assert {a.module for a in acks} == _always(sim, token)
    assert all(a.port == 7 and a.payload_hex == "AC0000002A" and a.ack_of == issued["issuanceId"] for a in acks)
    assert all(a.time == T0 + timedelta(seconds=3) for a in acks)
    record = sim.command(issued["issuanceId"])
    assert {a.uuid for a in record.ack_replies} == {a.uuid for a in acks}
    clock.advance(1)
    module = acks[0].module
    page = (await client.get(f"{CE}/data/uplinkPayload/node/{module}/mostRecentEvents?maxResults=1")).json()
    value = page["results"][0]["value"]
    assert value["pld"] == "AC0000002A" and value["portNumber"] == value["port"] == "7"
    assert value["avgSignalMetadata"] is not None


async def test_ack_replies_without_signal_metadata_and_disabled(clock: ManualClock) -> None:
    config = FleetConfig.generate(devices=6, seed=4, ack_replies=AckReplyConfig(signal_metadata=False, delay_s=0, port=9))
    sim = Simulator(config, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(sim)), base_url="http://s", auth=AUTH) as client:
        await _issue(client, _multicast(sim.app_tokens[0]))
        clock.advance(1)
        ack = sim.uplinks(kind="ack")[0]
        assert ack.port == 9 and not ack.signal_metadata
        clock.advance(1)
        result = (await client.get(f"{CE}/data/uplinkPayload/event/{ack.uuid}/{t(ack.time)}")).json()
        assert result["value"]["pld"] == "AC0000002A"
        assert result["value"]["avgSignalMetadata"] is None and result["links"] == []
    off = Simulator(FleetConfig.generate(devices=6, seed=4, ack_replies=AckReplyConfig(enabled=False)), clock=clock)
    off.issue_command(_multicast(off.app_tokens[0]))
    clock.advance(10)
    assert off.uplinks(kind="ack") == []


async def test_loss_is_seeded(clock: ManualClock) -> None:
    def run() -> tuple[set[str], set[str]]:
        local = ManualClock(T0)
        sim = Simulator(
            FleetConfig.generate(devices=60, seed=8, downlinks=DownlinkConfig(loss_probability=0.5)), clock=local
        )
        command = sim.issue_command(_multicast(sim.app_tokens[0]))
        local.advance(1)
        record = sim.command(command.issuance_id)
        return record.delivered_modules, {x.module for x in record.lost}

    delivered, lost = run()
    assert delivered and lost and not delivered & lost
    assert run() == (delivered, lost)


async def test_acked_unicast_is_retransmitted_after_loss(clock: ManualClock) -> None:
    config = FleetConfig.generate(devices=10, seed=8, downlinks=DownlinkConfig(loss_probability=0.6, ack_retry_interval_s=5))
    sim = Simulator(config, clock=clock)
    clock.advance(300)
    outcomes = []
    for module in sim.config.modules_with_mode(DownlinkMode.ALWAYS):
        outcomes.append(sim.issue_command(unicast_body(module.address, ttl_ms=60_000)).issuance_id)
    clock.advance(61)
    records = [sim.command(i) for i in outcomes]
    retried = [r for r in records if r.lost and r.deliveries]
    assert retried, "with 60% loss some unicast needs a retransmission"
    for record in retried:
        assert record.status == "Acknowledged"
        assert record.deliveries[0].time - record.lost[-1].time == timedelta(seconds=5)


@pytest.mark.parametrize("port", [-1, 129, 1000, "3", 2.5, None])
async def test_port_validation(sim: Simulator, client: httpx.AsyncClient, port: object) -> None:
    body = _multicast(sim.app_tokens[0])
    body["commandProperties"]["commReqs"]["portNumber"] = port
    response = await client.post(f"{CE}/issueCommand", json=body)
    assert response.status_code == 400
    assert set(response.json()) == {"description", "message"}


@pytest.mark.parametrize("port", [0, 127, 128])
async def test_ports_accepted(sim: Simulator, client: httpx.AsyncClient, port: int) -> None:
    body = _multicast(sim.app_tokens[0])
    body["commandProperties"]["commReqs"]["portNumber"] = port
    assert (await client.post(f"{CE}/issueCommand", json=body)).status_code == 200


@pytest.mark.parametrize("payload", ["ABC", "XYZ0", 12, None])
async def test_payload_validation(sim: Simulator, client: httpx.AsyncClient, payload: object) -> None:
    body = _multicast(sim.app_tokens[0])
    body["commandProperties"]["payloadHex"] = payload
    assert (await client.post(f"{CE}/issueCommand", json=body)).status_code == 400


async def test_body_validation(sim: Simulator, client: httpx.AsyncClient) -> None:
    token = sim.app_tokens[0]
    gateway = sim.config.gateways[0].address
    base = _multicast(token)
    cases = {
        400: [
            {"commandProperties": base["commandProperties"]},
            {**base, "commandRoutes": {"linkAddresses": [f"{BROADCAST_MODULE}!101!{gateway}"]}},
            with_target(base, commandRoutes={"linkAddresses": []}),
            with_target(base, commandRoutes={"linkAddresses": ["nonsense"]}),
            with_target(base, commandRoutes={"linkAddresses": [f"{BROADCAST_MODULE}!999!{gateway}"]}),
            with_target(base, commandTargets={"targetNodeAddresses": [gateway]}),
            with_target(unicast_body("x", acked=True), commandTargets={"targetAppToken": token}),  # acked multicast
            {"commandTargets": {"targetAppToken": token}},
        ],
        404: [
            with_target(base, commandTargets={"targetAppToken": "0123456789abcdef0123"}),
            with_target(base, commandTargets={"targetNodeAddresses": ["$301$0-0-0-fffffff00"]}),
            with_target(base, commandRoutes={"linkAddresses": [f"{BROADCAST_MODULE}!101!$101$0-0-0-db9000001"]}),
        ],
    }
    for status, bodies in cases.items():
        for body in bodies:
            response = await client.post(f"{CE}/issueCommand", json=body)
            assert response.status_code == status, body
    response = await client.post(f"{CE}/issueCommand", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400


async def test_gateway_internal_routes(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    gateway = sim.config.gateways[0].address
    issued = await _issue(client, _routes(f"{gateway}!FFE!{gateway}"))
    clock.advance(1)
    record = sim.command(issued["issuanceId"])
    assert record.kind == "gateway_internal" and record.status == "Success" and record.deliveries == []


async def test_cancel(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(300)
    module = sim.config.modules_with_mode(DownlinkMode.MAILBOX)[0].address
    issued = await _issue(client, unicast_body(module, ttl_ms=600_000))
    clock.advance(0.2)
    response = await client.delete(f"{CE}/command/{issued['issuanceId']}")
    assert response.status_code == 200 and response.json()["issuanceId"] == issued["issuanceId"]
    assert await _status(client, issued["issuanceId"]) == "Cancelled"
    clock.advance(600)
    record = sim.command(issued["issuanceId"])
    assert record.cancelled and record.deliveries == []
    assert (await client.delete(f"{CE}/command/{issued['issuanceId']}")).status_code == 409
    assert (await client.delete(f"{CE}/command/nope")).status_code == 404
    assert (await client.get(f"{CE}/issuedCommand/nope/status")).status_code == 404


async def test_command_history(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(300)
    token = sim.app_tokens[0]
    module = sim.config.modules_with_mode(DownlinkMode.ALWAYS, token)[0]
    first = await _issue(client, _multicast(token))
    clock.advance(10)
    second = await _issue(client, unicast_body(module.address))
    clock.advance(10)
    now = sim.now()
    span = f"{t(now)}/{t(now - timedelta(minutes=5))}"
    node = app_token_node_address(token)
    listed = (await client.get(f"{CE}/commands/node/{node}/{span}")).json()
    assert [c["issuanceId"] for c in listed] == [first["issuanceId"]]
    listed = (await client.get(f"{CE}/commands/node/{module.address}/{span}")).json()
    assert [c["issuanceId"] for c in listed] == [second["issuanceId"]]
    gateway = sim.command(second["issuanceId"]).routes[0].split("!")[-1]
    listed = (await client.get(f"{CE}/commands/node/{gateway}/{span}")).json()
    assert [c["issuanceId"] for c in listed] == [second["issuanceId"], first["issuanceId"]]  # newest first
    narrow = f"{t(now)}/{t(now - timedelta(seconds=15))}"
    assert [c["issuanceId"] for c in (await client.get(f"{CE}/commands/node/{gateway}/{narrow}")).json()] == [second["issuanceId"]]
    assert (await client.get(f"{CE}/commands/applicationToken/{token}/{span}")).status_code == 404
    future = f"{t(now + timedelta(seconds=30))}/{t(now)}"
    assert (await client.get(f"{CE}/commands/node/{node}/{future}")).status_code == 400


async def test_module_routes_endpoint(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    module = sim.config.modules[0]
    assert (await client.get(f"{CE}/module/{module.address}/routes")).json() == []
    clock.advance(3600)
    routes = (await client.get(f"{CE}/module/{module.address}/routes")).json()
    assert {r.split("!")[-1] for r in routes} == set(module.gateways) or set(r.split("!")[-1] for r in routes) <= set(module.gateways)
    assert routes and routes == sim.routes(module.address)
    assert (await client.get(f"{CE}/module/$301$0-0-0-fffffff00/routes")).status_code == 404
