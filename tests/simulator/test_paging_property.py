"""Property: for any window and page size, following nextPageId yields exactly the ground truth."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from rules_engine.clock import ManualClock
from rules_engine.simulator import Faults, FleetConfig, Simulator, create_app

from .conftest import AUTH, T0, t


def test_pages_partition_the_window() -> None:
    clock = ManualClock(T0)
    sim = Simulator(FleetConfig.generate(devices=12, gateways=2, app_tokens=2, seed=17), clock=clock)
    clock.advance(600)
    sim.set_faults(Faults(late_ingest_rate=0.3, late_ingest_s=20))
    clock.advance(1200)
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(sim)), base_url="http://sim.test", auth=AUTH)

    async def fetch_all(url: str, page_size: int, step_s: int) -> list[str]:
        got: list[str] = []
        params: dict[str, object] = {"maxResults": page_size}
        while True:
            page = (await client.get(url, params=params)).json()
            assert page["resultCount"] == len(page["results"]) <= page_size
            assert page["moreRecordsExist"] == (page["nextPageId"] is not None)
            got += [r["uuid"] for r in page["results"]]
            clock.advance(step_s)  # time moves while paging; the pages stay one consistent snapshot
            if not page["moreRecordsExist"]:
                return got
            assert page["resultCount"] == page_size
            params = {"maxResults": page_size, "pageId": page["nextPageId"]}

    @settings(max_examples=40, deadline=None)
    @given(
        page_size=st.integers(1, 60),
        start_s=st.integers(0, 1800),
        length_s=st.integers(0, 1800),
        token_index=st.integers(0, 1),
        step_s=st.integers(0, 3),
    )
    def check(page_size: int, start_s: int, length_s: int, token_index: int, step_s: int) -> None:
        start = T0 + timedelta(seconds=start_s)
        stop = min(start + timedelta(seconds=length_s), sim.now())
        if stop < start:
            return
        token = sim.app_tokens[token_index]
        truth = [r.uuid for r in reversed(sim.uplinks(app_token=token, since=start, until=stop, visible_only=True))]
        url = f"/clientEdge/data/uplinkPayload/applicationToken/{token}/events/{t(stop)}/{t(start)}"
        assert loop.run_until_complete(fetch_all(url, page_size, step_s)) == truth

    try:
        check()
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()
