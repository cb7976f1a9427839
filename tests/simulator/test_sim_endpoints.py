"""Ground truth and control over HTTP under /_sim/, and the NetworkAsset / Access APIs."""

from __future__ import annotations

from datetime import timedelta

import httpx

from rules_engine.clock import ManualClock, SystemClock
from rules_engine.simulator import FleetConfig, Simulator, create_app

from .conftest import AUTH, T0


async def test_sim_uplinks_and_filters(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(600)
    token = sim.app_tokens[0]
    data = (await client.get("/_sim/uplinks", params={"app_token": token})).json()
    assert [d["uuid"] for d in data] == [r.uuid for r in sim.uplinks(app_token=token)]
    assert set(data[0]) >= {"uuid", "app_token", "module", "gateway", "port", "time", "visible_from", "payload_hex"}
    since = (T0 + timedelta(seconds=100)).isoformat()
    until = "2026-01-01T00:05:00.000"
    data = (await client.get("/_sim/uplinks", params={"since": since, "until": until})).json()
    truth = sim.uplinks(since=T0 + timedelta(seconds=100), until=T0 + timedelta(seconds=300))
    assert [d["uuid"] for d in data] == [r.uuid for r in truth] and data
    module = truth[0].module
    data = (await client.get("/_sim/uplinks", params={"module": module, "port": 1})).json()
    assert {d["module"] for d in data} == {module}
    assert (await client.get("/_sim/uplinks", params={"since": "not a time"})).status_code == 400


async def test_sim_commands(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    body = {
        "commandTargets": {"targetAppToken": sim.app_tokens[0]},
        "commandProperties": {"payloadHex": "0A0B", "commReqs": {"ttlMSecs": 60000, "portNumber": 4}},
    }
    issued = (await client.post("/clientEdge/issueCommand", json=body)).json()
    clock.advance(5)
    listed = (await client.get("/_sim/commands")).json()
    assert [c["issuance_id"] for c in listed] == [issued["issuanceId"]]
    one = (await client.get(f"/_sim/commands/{issued['issuanceId']}")).json()
    assert one["status"] == "Success" and one["port"] == 4 and one["deliveries"] and one["ack_replies"]
    assert (await client.get("/_sim/commands", params={"app_token": sim.app_tokens[1]})).json() == []
    assert (await client.get("/_sim/commands/nope")).status_code == 404


async def test_sim_faults_put_patch(sim: Simulator, client: httpx.AsyncClient) -> None:
    assert (await client.get("/_sim/faults")).json() == sim.faults.model_dump(mode="json")
    response = await client.put("/_sim/faults", json={"error_rate": 1.0})
    assert response.status_code == 200 and response.json()["error_rate"] == 1.0
    assert (await client.get("/access/accounts")).status_code == 503
    response = await client.patch("/_sim/faults", json={"latency_s": 0.01})
    assert response.json()["error_rate"] == 1.0 and response.json()["latency_s"] == 0.01
    response = await client.put("/_sim/faults", json={})
    assert response.json()["error_rate"] == 0.0
    assert (await client.put("/_sim/faults", json={"error_rate": 7})).status_code == 400
    assert (await client.put("/_sim/faults", json=[1])).status_code == 400


async def test_sim_clock(sim: Simulator, client: httpx.AsyncClient) -> None:
    state = (await client.get("/_sim/clock")).json()
    assert state["manual"] is True and state["now"].startswith("2026-01-01T00:00:00")
    state = (await client.post("/_sim/clock/advance", json={"seconds": 90})).json()
    assert state["server_now"].startswith("2026-01-01T00:01:30")
    assert sim.uplinks()
    assert (await client.post("/_sim/clock/advance", json={"seconds": -1})).status_code == 400
    real = Simulator(FleetConfig.generate(devices=2), clock=SystemClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(real)), base_url="http://s", auth=AUTH) as other:
        assert (await other.post("/_sim/clock/advance", json={"seconds": 1})).status_code == 409


async def test_sim_fleet_and_modes(sim: Simulator, client: httpx.AsyncClient) -> None:
    fleet = (await client.get("/_sim/fleet")).json()
    assert fleet["modules"] == 30 and len(fleet["app_tokens"]) == 2 and fleet["account"]["id"] == "4711"
    module = sim.config.modules[0].address
    assert (await client.put(f"/_sim/modules/{module}", json={"downlinkMode": 2})).status_code == 200
    asset = (await client.get(f"/networkAsset/module/{module}")).json()
    assert asset["assetInfo"]["metadata"]["props"]["downlinkMode"] == "2"
    assert (await client.put(f"/_sim/modules/{module}", json={"downlinkMode": 5})).status_code == 400
    assert (await client.put("/_sim/modules/$301$0-0-0-fffffff00", json={"downlinkMode": 1})).status_code == 404


async def test_access(sim: Simulator, client: httpx.AsyncClient) -> None:
    accounts = (await client.get("/access/accounts", params={"username": "whoever"})).json()
    assert accounts == [{"self": {"href": "http://sim.test/access/account/4711"}, "id": "4711", "name": "Demo Account"}]
    assert (await client.get("/access/accountName/Demo Account")).json()["id"] == "4711"
    assert (await client.get("/access/accountName/Other")).status_code == 404
    assert (await client.get("/access/account/4711")).status_code == 200


async def test_network_assets(sim: Simulator, client: httpx.AsyncClient) -> None:
    params = {"accountId": "4711", "lifecycle": "registered"}
    tokens = (await client.get("/networkAsset/applicationTokens", params=params)).json()
    assert [x["hash"] for x in tokens] == sim.app_tokens and tokens[0]["tokenName"] == "App Token 1"
    one = (await client.get(f"/networkAsset/applicationToken/{sim.app_tokens[1]}")).json()
    assert one["hash"] == sim.app_tokens[1] and "assetInfo" in one
    assert (await client.get("/networkAsset/applicationToken/0123456789abcdef0123")).status_code == 404
    assert (await client.get("/networkAsset/applicationTokens", params={"accountId": "1"})).status_code == 403
    nets = (await client.get("/networkAsset/networkTokens", params=params)).json()
    assert nets[0]["hash"] == "4f50454e"
    assert (await client.get("/networkAsset/networkToken/4f50454e")).json()["hash"] == "4f50454e"
    gateways = (await client.get("/networkAsset/gateways", params=params)).json()
    assert [g["nodeAddress"] for g in gateways] == [g.address for g in sim.config.gateways]
    gateway = (await client.get(f"/networkAsset/gateway/{gateways[0]['nodeAddress'].replace('$', '%24')}")).json()
    assert gateway["registrationToken"] == "4f50454e" and "gateway_release_version" in gateway["gatewayConfig"]
    assert isinstance(gateway["assetInfo"]["metadata"]["props"], dict)
    modules = (await client.get("/networkAsset/modules", params=params)).json()
    assert len(modules) == 30
    module = modules[0]
    config = sim.config.modules[0]
    assert module["nodeAddress"] == config.address and module["registrationToken"] == config.app_token
    props = module["assetInfo"]["metadata"]["props"]
    assert props["downlinkMode"] == str(int(config.downlink_mode)) and props["registeredByGateway"] == config.gateways[0]
    assert (await client.get("/networkAsset/module/$301$0-0-0-fffffff00")).status_code == 404


async def test_create_app_token_invented(sim: Simulator, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/networkAsset/applicationTokens", json={"account": {"href": "4711", "desc": ""}, "tokenName": "Made here"}
    )
    assert response.status_code == 201
    created = response.json()
    assert len(created["hash"]) == 20 and created["tokenName"] == "Made here"
    assert created["hash"] in sim.app_tokens
    assert (await client.get(f"/networkAsset/applicationToken/{created['hash']}")).status_code == 200
    assert (await client.post("/networkAsset/applicationTokens", json={"tokenName": ""})).status_code == 400
    foreign = {"account": {"href": "https://x/access/account/99", "desc": ""}, "tokenName": "n"}
    assert (await client.post("/networkAsset/applicationTokens", json=foreign)).status_code == 403
