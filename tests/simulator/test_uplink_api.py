"""ClientEdge uplink queries over ASGI: shapes, order, paging, windows, subjects, errors."""

from __future__ import annotations

from datetime import timedelta

import httpx

from rules_engine.clock import ManualClock
from rules_engine.conductor.timefmt import parse_time
from rules_engine.simulator import FleetConfig, ServiceConfig, Simulator, create_app

from .conftest import AUTH, T0, t, window

EVENTS = "/clientEdge/data/uplinkPayload"


async def _all_pages(client: httpx.AsyncClient, url: str, **params: object) -> list[dict]:
    pages = []
    page_id = None
    while True:
        query = dict(params)
        if page_id:
            query["pageId"] = page_id
        response = await client.get(url, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        assert page["resultCount"] == len(page["results"])
        assert page["moreRecordsExist"] == (page["nextPageId"] is not None)
        if not page["moreRecordsExist"]:
            return pages
        page_id = page["nextPageId"]


async def test_envelope_and_result_shape(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(600)
    token = sim.app_tokens[0]
    response = await client.get(f"{EVENTS}/applicationToken/{token}/events/{window(sim, 15)}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    page = response.json()
    assert page["subjectType"] == "applicationToken" and page["subject"] == token
    assert page["queryUrl"]["href"].startswith("http://sim.test/clientEdge/data/uplinkPayload/applicationToken/")
    assert page["queryTime"].endswith("Z") and page["queryTime"] == "2026-01-01T00:10:00Z"
    assert page["moreRecordsExist"] is False and page["nextPageId"] is None
    result = page["results"][0]
    assert set(result) == {"eventUrl", "uuid", "time", "type", "metadata", "links", "value"}
    assert result["type"] == "uplinkPayload"
    assert result["eventUrl"]["href"].endswith(f"/clientEdge/data/uplinkPayload/event/{result['uuid']}/{result['time']}")
    assert len(result["time"]) == 23 and "Z" not in result["time"] and "+" not in result["time"]
    props = result["metadata"]["props"]
    assert result["metadata"]["tags"] == []
    assert props["app_tok"] == token and props["acctId"] == sim.config.account.id and len(props["net_tok"]) == 8
    event_ms = int(parse_time(result["time"]).timestamp() * 1000)
    assert event_ms <= int(props["t_ingest"]) <= int(props["t_write"])
    assert int(props["t_expire"]) == event_ms // 1000 + 60 * 24 * 3600
    value = result["value"]
    assert value["linkAddress"] == f"{value['module']}!101!{value['gateway']}"
    assert value["linkType"] == "SymphonyLoRa" and value["messageSequence"] is None
    assert value["startReceiveTime"] == result["time"]
    assert value["portNumber"] == value["port"] == "1"  # COMPAT: both keys, same string
    assert value["pld"] == value["pld"].upper()
    signal = value["avgSignalMetadata"]
    assert {"sf", "snr", "rssi", "frequency", "channelNumber"} <= set(signal)
    assert all(isinstance(signal[k], int) for k in ("sf", "snr", "rssi", "frequency", "channelNumber"))
    assert result["links"] == [
        {"href": f"http://sim.test/clientEdge/data/avgSignalMetadata/event/{result['uuid']}/{result['time']}", "desc": "avgSigMeta"}
    ]
    writes = [r["metadata"]["props"]["t_write"] for r in page["results"]]
    assert page["maxWTime"] == t(parse_time("1970-01-01T00:00:00") + timedelta(milliseconds=int(max(writes))))
    assert page["minWTime"] == t(parse_time("1970-01-01T00:00:00") + timedelta(milliseconds=int(min(writes))))


async def test_newest_first_and_matches_ground_truth(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(900)
    token = sim.app_tokens[1]
    page = (await client.get(f"{EVENTS}/applicationToken/{token}/events/{window(sim, 60)}")).json()
    times = [r["time"] for r in page["results"]]
    assert times == sorted(times, reverse=True)
    truth = sim.uplinks(app_token=token, visible_only=True)
    assert [r["uuid"] for r in page["results"]] == [r.uuid for r in reversed(truth)]


async def test_paging_is_consistent(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(1800)
    token = sim.app_tokens[0]
    url = f"{EVENTS}/applicationToken/{token}/events/{window(sim, 45)}"
    pages = await _all_pages(client, url, maxResults=17)
    assert len(pages) > 3
    assert all(p["resultCount"] == 17 for p in pages[:-1]) and 0 < pages[-1]["resultCount"] <= 17
    uuids = [r["uuid"] for p in pages for r in p["results"]]
    assert len(uuids) == len(set(uuids))
    assert uuids == [r.uuid for r in reversed(sim.uplinks(app_token=token, visible_only=True))]
    # new uplinks arriving while paging do not disturb the pages already cut (snapshot at page 1)
    first = (await client.get(url, params={"maxResults": 17})).json()
    clock.advance(1)
    second = (await client.get(url, params={"maxResults": 17, "pageId": first["nextPageId"]})).json()
    assert second["results"][0]["uuid"] == uuids[17]


async def test_exact_page_boundary_has_no_empty_extra_page(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(600)
    token = sim.app_tokens[0]
    url = f"{EVENTS}/applicationToken/{token}/events/{window(sim, 60)}"
    total = len(sim.uplinks(app_token=token, visible_only=True))
    pages = await _all_pages(client, url, maxResults=total)
    assert len(pages) == 1 and pages[0]["resultCount"] == total


async def test_default_page_size_from_config(clock: ManualClock) -> None:
    sim = Simulator(FleetConfig.generate(devices=10, seed=4, service=ServiceConfig(page_size=7)), clock=clock)
    clock.advance(600)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(sim)), base_url="http://s", auth=AUTH) as client:
        url = f"{EVENTS}/applicationToken/{sim.app_tokens[0]}/events/{window(sim)}"
        pages = await _all_pages(client, url)
    assert pages[0]["resultCount"] == 7
    assert sum(p["resultCount"] for p in pages) == len(sim.uplinks(visible_only=True))


async def test_bad_page_id_and_page_id_of_another_query(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(600)
    a, b = sim.app_tokens
    url_a = f"{EVENTS}/applicationToken/{a}/events/{window(sim)}"
    first = (await client.get(url_a, params={"maxResults": 2})).json()
    response = await client.get(url_a, params={"pageId": "garbage!"})
    assert response.status_code == 400 and set(response.json()) == {"description", "message"}
    url_b = f"{EVENTS}/applicationToken/{b}/events/{window(sim)}"
    assert (await client.get(url_b, params={"pageId": first["nextPageId"]})).status_code == 400


async def test_window_bounds_are_inclusive(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(600)
    record = sim.uplinks()[5]
    module = record.module
    url = f"{EVENTS}/node/{module}/events/{t(record.time)}/{t(record.time)}"
    page = (await client.get(url)).json()
    assert [r["uuid"] for r in page["results"]] == [record.uuid]


async def test_future_stop_is_rejected_beyond_tolerance(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(60)
    token = sim.app_tokens[0]
    ok = await client.get(f"{EVENTS}/applicationToken/{token}/events/{window(sim, 5, stop_offset_s=2)}")
    assert ok.status_code == 200
    late = await client.get(f"{EVENTS}/applicationToken/{token}/events/{window(sim, 5, stop_offset_s=2.5)}")
    assert late.status_code == 400
    assert "future" in late.json()["message"]


async def test_bad_windows(sim: Simulator, client: httpx.AsyncClient) -> None:
    token = sim.app_tokens[0]
    now = sim.now()
    reversed_window = f"{t(now - timedelta(minutes=5))}/{t(now)}"
    assert (await client.get(f"{EVENTS}/applicationToken/{token}/events/{reversed_window}")).status_code == 400
    assert (await client.get(f"{EVENTS}/applicationToken/{token}/events/yesterday/{t(now)}")).status_code == 400
    short = f"{now.strftime('%Y-%m-%dT%H:%M:%S')}/{(now - timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%S')}"
    assert (await client.get(f"{EVENTS}/applicationToken/{token}/events/{short}")).status_code == 200
    assert (await client.get(f"{EVENTS}/applicationToken/{token}/events/{window(sim)}?maxResults=0")).status_code == 400


async def test_subjects(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(600)
    record = sim.uplinks()[0]
    w = window(sim)
    cases = {
        f"node/{record.module}": sim.uplinks(module=record.module, visible_only=True),
        f"node/{record.module.replace('$', '%24')}": sim.uplinks(module=record.module, visible_only=True),
        f"lte/{record.module}": sim.uplinks(module=record.module, visible_only=True),  # COMPAT alias
        f"node/{record.gateway}": sim.uplinks(gateway=record.gateway, visible_only=True),
        f"networkToken/{record.network_token}": sim.uplinks(visible_only=True),
        f"accountId/{sim.config.account.id}": sim.uplinks(visible_only=True),
    }
    for subject, truth in cases.items():
        response = await client.get(f"{EVENTS}/{subject}/events/{w}", params={"maxResults": 10000})
        assert response.status_code == 200, subject
        assert {r["uuid"] for r in response.json()["results"]} == {r.uuid for r in truth}, subject
    for subject, status in {
        "applicationToken/0123456789abcdef0123": 404,
        "node/$301$0-0-0-fffffffff": 404,
        "accountId/999": 403,
        "assetGroup/5": 404,
    }.items():
        response = await client.get(f"{EVENTS}/{subject}/events/{w}")
        assert response.status_code == status, subject
        assert set(response.json()) == {"description", "message"}


async def test_most_recent_and_single_event(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(600)
    token = sim.app_tokens[0]
    response = await client.get(f"{EVENTS}/applicationToken/{token}/mostRecentEvents", params={"maxResults": 3})
    results = response.json()["results"]
    truth = sim.uplinks(app_token=token, visible_only=True)
    assert [r["uuid"] for r in results] == [r.uuid for r in truth[-1:-4:-1]]
    event_url = results[0]["eventUrl"]["href"].replace("http://sim.test", "")
    single = await client.get(event_url)
    assert single.status_code == 200 and single.json() == results[0]
    assert (await client.get(f"{EVENTS}/event/{results[0]['uuid']}/2020-01-01T00:00:00.000")).status_code == 404


async def test_lte_results_have_lte_signal(clock: ManualClock) -> None:
    sim = Simulator(FleetConfig.generate(devices=4, seed=3, lte_fraction=0.5), clock=clock)
    clock.advance(300)
    lte = next(m.address for m in sim.config.modules if m.is_lte)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(sim)), base_url="http://s", auth=AUTH) as client:
        page = (await client.get(f"{EVENTS}/lte/{lte}/events/{window(sim)}")).json()
    signal = page["results"][0]["value"]["avgSignalMetadata"]
    assert signal["@type"] == "LTEMAvgSignalMetadata"
    assert {"cellId", "cellTac", "cellRsrp", "cellRsrq", "imei"} <= set(signal)
    assert signal["imei"].isdigit() and page["results"][0]["value"]["gateway"].startswith("$101$0-0-0000128-")


async def test_auth(sim: Simulator, client: httpx.AsyncClient) -> None:
    for auth in [("demo@example.com", "wrong"), ("someone@example.com", "demo-password")]:
        response = await client.get("/access/accounts", auth=auth)
        assert response.status_code == 401
        assert response.json()["description"] == "Unauthorized"
        assert response.headers["www-authenticate"].startswith("Basic")
    bare = httpx.AsyncClient(transport=client._transport, base_url="http://sim.test")  # noqa: SLF001
    async with bare:
        assert (await bare.get("/access/accounts")).status_code == 401
        assert (await bare.get("/_sim/uplinks")).status_code == 401


async def test_unknown_path_and_method_are_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/clientEdge/nothing")
    assert response.status_code == 404 and set(response.json()) == {"description", "message"}
    response = await client.put("/access/accounts")
    assert response.status_code == 405 and set(response.json()) == {"description", "message"}


async def test_query_performance_with_many_tokens() -> None:
    clock = ManualClock(T0)
    sim = Simulator(FleetConfig.generate(devices=3000, gateways=10, app_tokens=100, seed=1), clock=clock)
    clock.advance(240)
    sim.catch_up()
    import time

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(sim)), base_url="http://s", auth=AUTH) as client:
        started = time.perf_counter()
        for token in sim.app_tokens[:20]:
            page = (await client.get(f"{EVENTS}/applicationToken/{token}/events/{window(sim, 10)}")).json()
            assert page["resultCount"] == len(sim.uplinks(app_token=token, visible_only=True))
        assert time.perf_counter() - started < 5
