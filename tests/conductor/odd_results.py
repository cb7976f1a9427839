"""Uplink results for the page-parsing tests: the recorded examples, a simulated page, and odd
values to put anywhere in a result (``mutated``)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from hypothesis import strategies as st

from rules_engine.clock import ManualClock
from rules_engine.conductor.timefmt import format_time
from rules_engine.jsonfast import loads
from rules_engine.simulator import FleetConfig, Simulator, create_app

EXAMPLES = json.loads((Path(__file__).parent.parent / "fixtures" / "conductor" / "examples.json").read_text())
URL = "http://conductor.test/clientEdge/data/uplinkPayload/applicationToken/x/events/a/b"


async def simulated_results(lte_fraction: float) -> list[dict[str, Any]]:
    """One ``/events`` page of the simulator, as it serves it."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    sim = Simulator(FleetConfig.generate(devices=40, gateways=2, seed=7, lte_fraction=lte_fraction, uplink_interval_s=20),
                    clock=ManualClock(start))
    sim.advance(90)
    url = (f"/clientEdge/data/uplinkPayload/applicationToken/{sim.app_tokens[0]}/events/"
           f"{format_time(start + timedelta(seconds=80))}/{format_time(start)}")
    transport = httpx.ASGITransport(app=create_app(sim))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim", auth=(sim.username, sim.password)) as http:
        response = await http.get(url)
    response.raise_for_status()
    return loads(response.content)["results"]


PATHS = [
    ("uuid",), ("time",), ("value",), ("metadata",), ("metadata", "props"),
    ("value", "module"), ("value", "pld"), ("value", "portNumber"), ("value", "port"), ("value", "gateway"),
    ("value", "linkAddress"), ("value", "startReceiveTime"), ("value", "avgSignalMetadata"),
    ("metadata", "props", "app_tok"), ("metadata", "props", "net_tok"), ("metadata", "props", "acctId"),
    ("metadata", "props", "t_ingest"), ("metadata", "props", "t_write"),
    ("value", "avgSignalMetadata", "@type"), ("value", "avgSignalMetadata", "sf"), ("value", "avgSignalMetadata", "snr"),
    ("value", "avgSignalMetadata", "rssi"), ("value", "avgSignalMetadata", "frequency"),
    ("value", "avgSignalMetadata", "channelNumber"), ("value", "avgSignalMetadata", "cellId"),
    ("value", "avgSignalMetadata", "imei"),
]

ODD_TEXTS = [
    "", "7", " 7 ", "+7", "-3", "07", "1.5", "1e3", "1_000", "abc", "0x1F", "٣", "²", "NaN", "inf", "true",
    "2024-03-11T14:02:17.512", "2024-03-11T14:02:17.5", "2024-03-11T14:02:17Z", "2024-03-11T14:02:17.51Z",
    "2024-03-11T14:02:17.٥١٢", "2024-13-11T14:02:17.512", "2024-03-11T14:02:17.512+02:00", "2024-03-11 14:02:17.512",
    "1710165737530", "0000000000000", "3999999999999", "4000000000000", "9999999999999", "17101657375300",
    "171016573753", "-710165737530", "1710165737530.0", "١٧١٠١٦٥٧٣٧٥٣٠", "1710165737.53", "0117A40C1F", "0117a40c1f",
    "0117A40C1", "01 17", "SymphonyAvgSignalMetadata", "LTEMAvgSignalMetadata", "xLTE", "356726100418377",
    "123456789012345678901", "-123456789012345678901",
]
ODD_VALUES = [None, True, False, 0, 1, -1, 7, 2**31, 2**70, 1710165737530, 4_000_000_000_000, 10**17, 10**20, 1.5,
              -0.0, float("nan"), float("inf"), [], [1, 2], {}, {"a": 1}, {"sf": 9}, {"cellId": 1}, {"@type": 5},
              {"@type": "LTE"}]
ODD = st.one_of(
    st.sampled_from(ODD_TEXTS + ODD_VALUES),
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
DELETE = object()


def mutated(raw: dict[str, Any], changes: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    for path, value in changes:
        container: Any = raw
        for key in path[:-1]:
            container = container.get(key) if isinstance(container, dict) else None
        if not isinstance(container, dict):
            continue
        if value is DELETE:
            container.pop(path[-1], None)
        else:
            container[path[-1]] = copy.deepcopy(value)
    return raw
