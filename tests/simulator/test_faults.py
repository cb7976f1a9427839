"""Faults on demand: errors, 429, latency, timeouts, malformed pages, lost responses, late ingest, skew."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import httpx
import pytest
from pydantic import ValidationError

from rules_engine.clock import ManualClock
from rules_engine.conductor.timefmt import parse_time
from rules_engine.simulator import Faults, Simulator

from .conftest import T0, t, window

EVENTS = "/clientEdge/data/uplinkPayload"


def _events(sim: Simulator, minutes: float = 30) -> str:
    return f"{EVENTS}/applicationToken/{sim.app_tokens[0]}/events/{window(sim, minutes)}"


async def test_error_rate_and_error_next(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_faults(error_rate=1.0, error_status=502)
    response = await client.get("/access/accounts")
    assert response.status_code == 502 and set(response.json()) == {"description", "message"}
    assert (await client.get("/_sim/faults")).status_code == 200  # never faulted
    sim.set_faults(Faults(error_next=2))
    statuses = [(await client.get("/networkAsset/gateways")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert sim.faults.error_next == 0


async def test_error_rate_is_seeded_and_partial(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_faults(error_rate=0.5)
    statuses = [(await client.get("/access/accounts")).status_code for _ in range(40)]
    assert 5 < statuses.count(503) < 35 and statuses.count(200) + statuses.count(503) == 40


async def test_rate_limit_with_retry_after(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_faults(rate_limit_rate=1.0, retry_after_s=7)
    response = await client.get("/access/accounts")
    assert response.status_code == 429 and response.headers["retry-after"] == "7"


async def test_latency(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_faults(latency_s=0.2)
    started = time.perf_counter()
    assert (await client.get("/access/accounts")).status_code == 200
    assert time.perf_counter() - started >= 0.19


async def test_timeout_holds_the_request(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_faults(timeout_rate=1.0, timeout_hold_s=0.3)
    started = time.perf_counter()
    response = await client.get("/access/accounts")
    assert response.status_code == 504 and time.perf_counter() - started >= 0.29


async def test_paths_limit_request_faults(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_faults(error_rate=1.0, paths=["/clientEdge/issueCommand"])
    assert (await client.get("/access/accounts")).status_code == 200
    assert (await client.post("/clientEdge/issueCommand", json={})).status_code == 503


@pytest.mark.parametrize("kind", ["invalid_json", "missing_results", "missing_uuid"])
async def test_malformed_pages(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock, kind: str) -> None:
    clock.advance(600)
    sim.set_faults(malformed_rate=1.0, malformed_kinds=[kind])
    response = await client.get(_events(sim))
    assert response.status_code == 200
    if kind == "invalid_json":
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.text)
        return
    page = response.json()
    if kind == "missing_results":
        assert "results" not in page and "moreRecordsExist" in page
    else:
        assert "uuid" not in page["results"][0] and all("uuid" in r for r in page["results"][1:])
    most_recent = await client.get(f"{EVENTS}/applicationToken/{sim.app_tokens[0]}/mostRecentEvents")
    assert "results" not in most_recent.json() or "uuid" not in most_recent.json()["results"][0]
    assert (await client.get("/networkAsset/gateways")).status_code == 200  # pages only


async def test_lost_response_still_issues_the_command(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_faults(lost_response_rate=1.0)
    body = {
        "commandTargets": {"targetAppToken": sim.app_tokens[0]},
        "commandProperties": {"payloadHex": "01", "commReqs": {"ttlMSecs": 60000, "portNumber": 0}},
    }
    response = await client.post("/clientEdge/issueCommand", json=body)
    assert response.status_code == 504
    [record] = sim.commands()
    assert record.kind == "app_token_multicast"


async def test_late_ingest_visibility(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(120)
    sim.set_faults(late_ingest_rate=1.0, late_ingest_s=30)
    clock.advance(60)
    late = sim.uplinks(since=T0 + timedelta(seconds=120, milliseconds=1))
    assert late and all(r.visible_from - r.time >= timedelta(seconds=30) for r in late)
    url = _events(sim, 10)
    seen = {r["uuid"] for r in (await client.get(url, params={"maxResults": 10000})).json()["results"]}
    assert not seen & {r.uuid for r in late if r.visible_from > sim.now()}
    assert {r.uuid for r in sim.uplinks(app_token=sim.app_tokens[0], visible_only=True)} == seen
    sim.set_faults(Faults())
    clock.advance(31)
    seen = {r["uuid"] for r in (await client.get(url, params={"maxResults": 10000})).json()["results"]}
    assert {r.uuid for r in late if r.app_token == sim.app_tokens[0]} <= seen
    # t_write reflects the late write
    page = (await client.get(url)).json()
    record = next(r for r in page["results"] if r["uuid"] in {x.uuid for x in late})
    props = record["metadata"]["props"]
    assert int(props["t_write"]) - int(parse_time(record["time"]).timestamp() * 1000) >= 30_000


async def test_late_ingest_does_not_break_paging_snapshot(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    sim.set_faults(late_ingest_rate=0.5, late_ingest_s=5)
    clock.advance(600)
    url = _events(sim, 20)
    first = (await client.get(url, params={"maxResults": 5})).json()
    clock.advance(10)  # more records become visible, inside the same window
    uuids = [r["uuid"] for r in first["results"]]
    page = first
    while page["moreRecordsExist"]:
        page = (await client.get(url, params={"maxResults": 5, "pageId": page["nextPageId"]})).json()
        uuids += [r["uuid"] for r in page["results"]]
    assert len(uuids) == len(set(uuids))


async def test_clock_skew_moves_the_server_clock(sim: Simulator, client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(60)
    client_now = clock.now()
    sim.set_faults(clock_skew_s=-10)
    assert sim.now() == client_now - timedelta(seconds=10)
    stop = f"{EVENTS}/applicationToken/{sim.app_tokens[0]}/events/{t(client_now)}/{t(client_now - timedelta(minutes=5))}"
    assert (await client.get(stop)).status_code == 400  # our "now" is 10 s in the server's future
    sim.set_faults(clock_skew_s=30)
    clock.advance(1)
    assert (await client.get(stop)).status_code == 200
    newest = sim.uplinks()[-1]
    assert newest.time > clock.now()  # stamped on the (fast) server clock
    body = {
        "commandTargets": {"targetAppToken": sim.app_tokens[0]},
        "commandProperties": {"payloadHex": "01", "commReqs": {"ttlMSecs": 60000, "portNumber": 0}},
    }
    issued = (await client.post("/clientEdge/issueCommand", json=body)).json()
    assert issued["issuanceTime"] == t(clock.now() + timedelta(seconds=30))


def test_faults_model_validates() -> None:
    with pytest.raises(ValidationError):
        Faults(error_rate=1.5)
    with pytest.raises(ValidationError):
        Faults(malformed_kinds=["bogus"])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        Faults(unknown=1)  # type: ignore[call-arg]
