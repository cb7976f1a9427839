"""``parse_uplink`` reads the usual shape in one pass (``_usual_uplink``) and leaves anything else
to the lenient reading (``_lenient_uplink``): both must give the same uplink, field by field and
type by type, or the same error, whatever the result holds."""

from __future__ import annotations

import copy
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules_engine.clock import ManualClock
from rules_engine.conductor import _wire
from rules_engine.conductor.timefmt import format_time
from rules_engine.jsonfast import loads
from rules_engine.simulator import FleetConfig, Simulator, create_app

EXAMPLES = json.loads((Path(__file__).parent.parent / "fixtures" / "conductor" / "examples.json").read_text())
URL = "http://conductor.test/clientEdge/data/uplinkPayload/applicationToken/x/events/a/b"


def outcome(parse: Any, raw: Any) -> tuple[Any, ...]:
    """Everything observable of one parse: the fields with their types, or the error."""
    try:
        uplink = parse(raw, URL)
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        return ("error", type(exc), str(exc), getattr(exc, "url", None))
    fields = [(name, type(value), value) for name, value in uplink.__dict__.items()]
    signal = uplink.signal
    zones = [value.tzinfo for value in (uplink.time, uplink.ingest_time, uplink.write_time) if value is not None]
    assert all(zone is timezone.utc for zone in zones)
    return ("uplink", type(uplink), fields, uplink.model_fields_set,
            None if signal is None else (type(signal), [(k, type(v), v) for k, v in signal.__dict__.items()]))


def assert_same(raw: Any) -> None:
    lenient = outcome(_wire._lenient_uplink, copy.deepcopy(raw))
    assert outcome(_wire.parse_uplink, copy.deepcopy(raw)) == lenient
    page = {"results": [copy.deepcopy(raw)], "moreRecordsExist": False}
    try:
        uplinks = _wire.parse_uplink_page(page, URL).uplinks
    except Exception as exc:  # noqa: BLE001
        assert lenient[:3] == ("error", type(exc), str(exc))
    else:
        assert outcome(lambda _raw, _url: uplinks[0], None) == lenient


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


@pytest.mark.parametrize("name", ["E1", "E2", "E3", "E4"])
def test_the_examples_take_the_fast_path(name: str) -> None:
    assert _wire._usual_uplink(copy.deepcopy(EXAMPLES[name])) is not None
    assert_same(EXAMPLES[name])


@pytest.mark.parametrize("lte_fraction", [0.0, 0.5])
async def test_simulated_results_take_the_fast_path(lte_fraction: float) -> None:
    results = await simulated_results(lte_fraction)
    assert len(results) > 50
    for raw in results:
        assert _wire._usual_uplink(copy.deepcopy(raw)) is not None
        assert_same(raw)


# -- odd values anywhere ----------------------------------------------------------------------

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


@pytest.mark.parametrize("base", ["E1", "E3", "E4"])
def test_every_odd_value_in_every_place_reads_the_same_both_ways(base: str) -> None:
    for path in PATHS:
        assert_same(mutated(EXAMPLES[base], [(path, DELETE)]))
        for value in ODD_TEXTS + ODD_VALUES:
            assert_same(mutated(EXAMPLES[base], [(path, value)]))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(["E1", "E2", "E3", "E4"]),
    changes=st.lists(st.tuples(st.sampled_from(PATHS), st.one_of(ODD, st.just(DELETE))), min_size=1, max_size=4),
)
def test_odd_values_read_the_same_both_ways(base: str, changes: list[tuple[tuple[str, ...], Any]]) -> None:
    assert_same(mutated(EXAMPLES[base], changes))


@pytest.mark.parametrize("raw", [None, [], "E1", 3, {}, {"uuid": "u"}, {"uuid": "u", "value": {"module": "m"}}])
def test_non_results_read_the_same_both_ways(raw: Any) -> None:
    assert_same(raw)


def test_a_minimal_result_reads_the_same_both_ways() -> None:
    """The shape the engine tests build by hand: no signal, no ingest/write times, no linkAddress."""
    assert_same({"uuid": "u1", "time": "2026-01-01T00:00:01.250", "metadata": {"props": {"app_tok": "t"}},
                 "value": {"module": "$301$0-0-0-000000001", "gateway": "g", "portNumber": "1", "pld": "01"}})


# -- epoch milliseconds -----------------------------------------------------------------------


def test_epoch_strings_give_fromtimestamp_exactly() -> None:
    """A kept second plus the milliseconds is ``fromtimestamp(ms / 1000)``, to the microsecond,
    over the whole range the cache takes (and around its limit): read through the fast path, every
    millisecond but the first of a second is a cache hit."""
    rng = random.Random(11)
    numbers = [0, 1, 999, 1000, 1710165737530, 3_999_999_999_000, 3_999_999_999_999, 4_000_000_000_000,
               4_000_000_000_001, 9_999_999_999_999]
    numbers += [rng.randrange(0, 4_000_000_000_000) for _ in range(2000)]
    # every millisecond of a few seconds, one past the limit (where fromtimestamp is not exact)
    numbers += [second * 1000 + ms for second in (1_710_165_737, 2**31 - 1, 3_999_999_999, 9_999_999_998)
                for ms in range(1000)]
    raw = copy.deepcopy(EXAMPLES["E1"])
    props = raw["metadata"]["props"]
    hits = 0
    for number in numbers:
        props["t_ingest"] = props["t_write"] = f"{number:013d}"
        hits += props["t_ingest"][:10] in _wire._SECONDS
        uplink = _wire._usual_uplink(raw)
        assert uplink is not None
        expected = datetime.fromtimestamp(number / 1000, timezone.utc)
        assert uplink.ingest_time == uplink.write_time == expected
        assert uplink.ingest_time.tzinfo is uplink.write_time.tzinfo is timezone.utc
    assert hits > 3 * 999


@pytest.mark.parametrize("text", ["", "171016573753", "17101657375300", "+710165737530", " 710165737530",
                                  "١٧١٠١٦٥٧٣٧٥٣٠", "1710165737.53", "1_10165737530", "9999999999999"])
def test_other_epoch_strings_are_read_as_before(text: str) -> None:
    def old(value: str) -> Any:
        try:
            return _wire._epoch_ms(value)
        except Exception as exc:  # noqa: BLE001
            return type(exc)

    expected = old(text)
    _wire._epoch_text("1710165737000")  # a kept second that the 10 first characters of some of these match
    for _ in range(2):
        try:
            assert _wire._epoch_text(text) == expected
        except Exception as exc:  # noqa: BLE001
            assert type(exc) is expected


def test_the_kept_seconds_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_wire, "_SECONDS", {})
    monkeypatch.setattr(_wire, "_SECONDS_KEPT", 5)
    for second in range(12):
        _wire._epoch_text(f"{1_710_000_000 + second}123")
        assert len(_wire._SECONDS) <= 5
