"""``parse_uplink_page_content`` (msgspec structs, the client's page parser) gives what
``parse_uplink_page(loads(body))`` (dicts, the general path) gives: the same uplinks field by field
and type by type, the same paging, the same skipped count, or the same error, whatever the body
holds; and the usual shapes do take the struct path."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules_engine.conductor import _uplink_page, _wire
from rules_engine.conductor._uplink_page import parse_uplink_page_content
from rules_engine.errors import ProtocolError
from rules_engine.jsonfast import loads

from .test_wire_fast_path import DELETE, EXAMPLES, ODD, ODD_TEXTS, ODD_VALUES, PATHS, URL, mutated, simulated_results

SIGNAL_PATHS = [("value", "avgSignalMetadata", key) for key in ("cellTac", "cellRsrp", "cellRsrq", "sourceAddress")]
PAGE_PATHS = [("results",), ("moreRecordsExist",), ("nextPageId",)]


def uplink_outcome(uplink: Any) -> tuple[Any, ...]:
    signal = uplink.signal
    return (type(uplink), [(name, type(value), value) for name, value in uplink.__dict__.items()], uplink.model_fields_set,
            None if signal is None else (type(signal), [(k, type(v), v) for k, v in signal.__dict__.items()]))


def page_outcome(parse: Any, body: bytes, known: Any = None) -> tuple[Any, ...]:
    try:
        page = parse(body, known)
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        return ("error", type(exc), str(exc), getattr(exc, "url", None))
    assert page.times == tuple(u.time.timestamp() for u in page.uplinks)  # both ways, known filter or not
    return ("page", page.url, [uplink_outcome(u) for u in page.uplinks], page.more, page.next_page_id, page.skipped)


def by_structs(body: bytes, known: Any) -> Any:
    return parse_uplink_page_content(body, URL, known=known)


def by_dicts(body: bytes, known: Any) -> Any:
    return _wire.parse_uplink_page(_http_body(body), URL, known=known)


def _http_body(body: bytes) -> Any:
    from rules_engine.conductor._http import decode_json

    return decode_json(body, URL)


def takes_struct_path(body: bytes) -> bool:
    try:
        _uplink_page._usual_page(_uplink_page._DECODER.decode(body), URL, None)
    except Exception:  # noqa: BLE001
        return False
    return True


def assert_same(body: bytes, known: Any = None) -> tuple[Any, ...]:
    expected = page_outcome(by_dicts, body, known)
    assert page_outcome(by_structs, body, known) == expected
    return expected


def body_of(results: list[Any], **envelope: Any) -> bytes:
    return json.dumps({"results": results, "moreRecordsExist": False, **envelope}).encode()


# -- the usual shapes take the struct path -----------------------------------------------------


@pytest.mark.parametrize("name", ["E1", "E2", "E3", "E4"])
def test_the_examples_take_the_struct_path(name: str) -> None:
    body = body_of([EXAMPLES[name]])
    assert takes_struct_path(body)
    outcome = assert_same(body)
    assert outcome[0] == "page" and len(outcome[2]) == 1


@pytest.mark.parametrize("lte_fraction", [0.0, 0.5])
async def test_simulated_pages_take_the_struct_path(lte_fraction: float) -> None:
    results = await simulated_results(lte_fraction)
    assert len(results) > 50
    body = body_of(results, nextPageId="p2", moreRecordsExist=True)
    assert takes_struct_path(body)
    outcome = assert_same(body)
    assert outcome[0] == "page" and len(outcome[2]) == len(results) and outcome[3:5] == (True, "p2")
    kinds = {type(u.signal).__name__ for u in parse_uplink_page_content(body, URL).uplinks}
    assert kinds == ({"SymphonySignal", "LTESignal"} if lte_fraction else {"SymphonySignal"})


def test_the_recorded_page_reads_the_same_both_ways() -> None:
    page = dict(EXAMPLES["page"], results=[EXAMPLES[name] for name in EXAMPLES["page"]["results"]])
    body = json.dumps(page).encode()
    assert takes_struct_path(body)
    assert assert_same(body)[2:5] != [] and assert_same(body)[3:5] == (True, "c2ltLXBhZ2UtMQ")


# -- the known filter ----------------------------------------------------------------------------


async def test_known_results_are_skipped_alike() -> None:
    results = await simulated_results(0.5)
    body = body_of(results)
    asked: list[list[tuple[float, str]]] = []

    def known(identities: list[tuple[float, str]]) -> set[str]:
        asked.append(identities)
        return {uuid for _ts, uuid in identities[::3]}

    expected = assert_same(body, known)
    assert asked[0] == asked[1]  # the same identities, in the same order, both ways
    assert asked[0] == [_wire.uplink_identity(raw) for raw in results]
    assert expected[5] == len(range(0, len(results), 3)) and len(expected[2]) == len(results) - expected[5]
    assert assert_same(body, lambda identities: {uuid for _ts, uuid in identities})[2:] == ([], False, None, len(results))
    assert assert_same(body, lambda identities: set())[5] == 0


def test_an_error_in_the_known_filter_is_raised_alike() -> None:
    def broken(identities: list[tuple[float, str]]) -> set[str]:
        raise RuntimeError("ledger gone")

    assert assert_same(body_of([EXAMPLES["E1"]]), broken)[:3] == ("error", RuntimeError, "ledger gone")


# -- odd values anywhere -------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["E1", "E3", "E4"])
def test_every_odd_value_in_every_place_reads_the_same_both_ways(base: str) -> None:
    for path in PATHS + SIGNAL_PATHS:
        assert_same(body_of([mutated(EXAMPLES[base], [(path, DELETE)])]))
        for value in ODD_TEXTS + ODD_VALUES:
            assert_same(body_of([mutated(EXAMPLES[base], [(path, value)])]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bases=st.lists(st.sampled_from(["E1", "E2", "E3", "E4"]), min_size=1, max_size=3),
    changes=st.lists(st.tuples(st.integers(0, 2), st.sampled_from(PATHS + SIGNAL_PATHS), st.one_of(ODD, st.just(DELETE))),
                     max_size=4),
)
def test_odd_values_in_a_page_read_the_same_both_ways(bases: list[str], changes: list[tuple[int, Any, Any]]) -> None:
    results = [mutated(EXAMPLES[base], [(path, value) for at, path, value in changes if at == i]) for i, base in enumerate(bases)]
    assert_same(body_of(results))


@pytest.mark.parametrize("envelope", [
    {"moreRecordsExist": True, "nextPageId": "p2"}, {"moreRecordsExist": True, "nextPageId": ""},
    {"moreRecordsExist": True}, {"moreRecordsExist": True, "nextPageId": None}, {"moreRecordsExist": False, "nextPageId": "p2"},
    {"moreRecordsExist": "yes", "nextPageId": "p2"}, {"moreRecordsExist": 1, "nextPageId": 7}, {"nextPageId": 2**70},
    {"moreRecordsExist": None}, {}, {"resultCount": 1, "maxWTime": "x"},
])
def test_paging_reads_the_same_both_ways(envelope: dict[str, Any]) -> None:
    body = json.dumps({"results": [EXAMPLES["E1"]], **envelope}).encode()
    assert_same(body)


@pytest.mark.parametrize("body", [
    b"", b"   ", b"null", b"[]", b"7", b'"text"', b"{}", b'{"results": null}', b'{"results": {}}', b'{"results": [1]}',
    b'{"results": [null]}', b'{"results": []}', b'{"results": [], "moreRecordsExist": true}', b'{"results": [',
    b'{"results": [], }', b'{"results": [NaN]}', b'{"results": [{"uuid": "\\ud800"}]}', b"\xef\xbb\xbf{\"results\": []}",
    b'{"results": [], "results": []}', b'{"results": [{"uuid": 1e400}]}',
])
def test_odd_bodies_read_the_same_both_ways(body: bytes) -> None:
    assert_same(body)


def test_a_body_that_is_not_json_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="not JSON") as caught:
        parse_uplink_page_content(b'{"results": [', URL)
    assert caught.value.url == URL
    with pytest.raises(ProtocolError, match="empty response body"):
        parse_uplink_page_content(b"", URL)


def test_duplicate_keys_read_the_same_both_ways() -> None:
    raw = json.dumps(EXAMPLES["E1"])
    doubled = raw.replace('"uuid": ', '"uuid": "first", "uuid": ', 1)
    assert doubled != raw and loads(doubled)["uuid"] == EXAMPLES["E1"]["uuid"]
    body = ('{"results": [' + doubled + '], "moreRecordsExist": false}').encode()
    assert takes_struct_path(body)
    assert assert_same(body)[2][0][1][0][2] == EXAMPLES["E1"]["uuid"]


def test_the_struct_reads_every_signal_key_the_general_path_reads() -> None:
    """A key ``_wire._signal`` reads that the struct did not declare would be skipped unseen."""
    import inspect
    import re

    import msgspec

    source = inspect.getsource(_wire._signal)
    read = set(re.findall(r'raw\.get\("([A-Za-z@]+)"', source)) | set(re.findall(r'"([A-Za-z@]+)" in raw', source))
    declared = {field.encode_name for field in msgspec.structs.fields(_uplink_page._Signal)}
    assert len(read) == 11 and read <= declared, read - declared


@pytest.mark.parametrize("raw", [copy.deepcopy(EXAMPLES["E1"])])
def test_an_empty_signal_and_an_unknown_one_differ_as_before(raw: dict[str, Any]) -> None:
    empty = mutated(raw, [(("value", "avgSignalMetadata"), {})])
    unknown = mutated(raw, [(("value", "avgSignalMetadata"), {"vendor": 1})])
    assert parse_uplink_page_content(body_of([empty]), URL).uplinks[0].signal is None
    signal = parse_uplink_page_content(body_of([unknown]), URL).uplinks[0].signal
    assert signal is not None and signal.kind == "symphony" and signal.sf is None
    assert_same(body_of([empty]))
    assert_same(body_of([unknown]))
