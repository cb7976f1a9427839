"""The JSON helpers: msgspec reads and orjson writes, with the standard library for what they refuse."""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from rules_engine.conductor.models import SymphonySignal
from rules_engine.jsonfast import dumps, loads


@dataclass
class _Point:
    x: int


def test_loads_reads_what_json_reads() -> None:
    body = b'{"results": [{"uuid": "u", "n": 12345678901234567890123, "t": NaN}], "nextPageId": null}'
    parsed = loads(body)  # NaN is not JSON: the fallback reads it
    assert parsed["results"][0]["n"] == 12345678901234567890123 and parsed["results"][0]["t"] != parsed["results"][0]["t"]
    assert loads('{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}


def test_loads_reads_integers_past_64_bits_exactly() -> None:
    """orjson reads an integer outside 64 bits as a float, losing digits, without an error."""
    for number in (2**63, 2**64, -(2**63) - 1, -(2**64), 12345678901234567890123, -(10**30) - 7):
        body = f'{{"n": {number}, "list": [{number}, 1]}}'
        assert loads(body) == loads(body.encode()) == json.loads(body) == {"n": number, "list": [number, 1]}
        assert type(loads(body)["n"]) is int


def test_loads_reads_odd_texts_as_json_does() -> None:
    for body in ['{"a": "\\ud800"}', '{"a": 1, "a": 2}', '[1e400, -1e400]', '{"a": -0.0, "b": 1E-7}', '  [] ', '"\\u00e9"']:
        assert repr(loads(body)) == repr(json.loads(body)), body


def test_loads_reads_bytes_as_json_does() -> None:
    """Bytes json decodes with ``surrogatepass`` (an encoded surrogate), and bytes it refuses."""
    for body in [b'{"a": "\xed\xa0\x80"}', b'["\xf0\x9f\x98\x80"]', b'"\\ud800"']:
        assert repr(loads(body)) == repr(json.loads(body)), body
    for body in [b'{"a": "\xff"}', b'["\xc0\xaf"]']:
        try:
            json.loads(body)
        except ValueError:
            pass
        else:
            raise AssertionError(f"json reads {body!r}")
        try:
            loads(body)
        except ValueError:
            continue
        raise AssertionError(f"loads reads {body!r}, which json refuses")


def test_loads_rejects_what_json_rejects() -> None:
    try:
        loads(b"<html>")
    except ValueError:
        return
    raise AssertionError("not JSON, yet parsed")


def test_dumps_round_trips_and_writes_the_rest_as_str() -> None:
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    value = {"t": 21.37, "n": 3, "ok": True, "none": None, "list": [1, "a"], 7: "int key", "when": when,
             "point": _Point(1), "raw": b"\x01"}
    text = dumps(value)
    assert json.loads(text) == {"t": 21.37, "n": 3, "ok": True, "none": None, "list": [1, "a"], "7": "int key",
                                "when": str(when), "point": str(_Point(1)), "raw": str(b"\x01")}
    assert " " not in dumps({"a": 1, "b": [1, 2]})
    assert dumps({"n": 2**70}) == '{"n":1180591620717411303424}'  # past 64 bits: the standard library writes it


def test_dumps_writes_other_keys_as_text_at_any_depth() -> None:
    assert dumps({"a": {1: {2.5: "x", None: [{True: 1}]}}}) == '{"a":{"1":{"2.5":"x","null":[{"true":1}]}}}'
    assert dumps({"b": {3: 1}, "a": 2}, sort_keys=True) == '{"a":2,"b":{"3":1}}'
    assert dumps({"a": 1, "b": {"c": [1, {"d": None}]}}) == '{"a":1,"b":{"c":[1,{"d":null}]}}'


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8)
    | st.datetimes(timezones=st.just(timezone.utc)),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=5) | st.integers(-5, 5) | st.booleans() | st.none(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=JSONISH, sort_keys=st.booleans())
def test_dumps_writes_what_one_orjson_call_with_every_option_writes(value: Any, sort_keys: bool) -> None:
    """The first try (text keys only) changes nothing but the cost: the text is that of orjson
    with ``OPT_NON_STR_KEYS``, or, for what orjson cannot write, that of the standard library."""
    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def reference() -> str:
        try:
            return orjson.dumps(value, default=str, option=options | (orjson.OPT_SORT_KEYS if sort_keys else 0)).decode()
        except orjson.JSONEncodeError:
            return json.JSONEncoder(default=str, separators=(",", ":"), sort_keys=sort_keys).encode(value)

    assert outcome(lambda: dumps(value, sort_keys=sort_keys)) == outcome(reference)


def outcome(write: Any) -> tuple[Any, ...]:
    try:
        return ("text", write())
    except Exception as exc:  # noqa: BLE001 - the same error both ways (keys that cannot be sorted together)
        return ("error", type(exc), str(exc))


def test_dumps_sort_keys() -> None:
    assert dumps({"b": 1, "a": {"d": 2, "c": 3}}, sort_keys=True) == '{"a":{"c":3,"d":2},"b":1}'
    assert dumps({"b": 1, "a": 2**70}, sort_keys=True) == '{"a":1180591620717411303424,"b":1}'


def test_dumps_non_finite_floats_as_null() -> None:
    assert dumps({"x": float("nan"), "y": float("inf")}) == '{"x":null,"y":null}'


def test_signal_as_stored_equals_the_models_own_json() -> None:
    signal = SymphonySignal(sf=9, snr=-3, rssi=-101, frequency=915000000, channel_number=4)
    assert dumps(signal.__dict__) == signal.model_dump_json()


def test_loads_holds_the_collector_while_a_body_is_built() -> None:
    body = json.dumps({"results": [{"value": {"n": i}} for i in range(20_000)]}).encode()
    collections: list[str] = []

    def count(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(phase)

    gc.collect()
    gc.callbacks.append(count)
    try:
        parsed = loads(body)
        during = len(collections)
    finally:
        gc.callbacks.remove(count)
    # 40k containers: ~57 young collections while they are built unheld; held, one once the collector is back
    assert during <= 1 and gc.isenabled() and len(parsed["results"]) == 20_000
