"""``parse_uplink_page_content`` (msgspec structs, the client's page parser) gives what
``parse_uplink_page(loads(body))`` (the general path: JSON, then ``parse_uplink``, the lenient
reading of each result) gives: the same uplinks field by field and type by type, the same paging,
the same skipped count, or the same error, whatever the body holds; and the usual shapes do take
the struct path."""

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

from .odd_results import DELETE, EXAMPLES, ODD, ODD_TEXTS, ODD_VALUES, PATHS, URL, mutated, simulated_results

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


@pytest.mark.parametrize("raw", [None, [], "E1", 3, {}, {"uuid": "u"}, {"uuid": "u", "value": {"module": "m"}}])
def test_non_results_read_the_same_both_ways(raw: Any) -> None:
    assert_same(body_of([raw]))
    assert_same(body_of([EXAMPLES["E1"], raw]))


def test_a_minimal_result_reads_the_same_both_ways() -> None:
    """The shape the engine tests build by hand: no signal, no ingest/write times, no linkAddress."""
    minimal = {"uuid": "u1", "time": "2026-01-01T00:00:01.250", "metadata": {"props": {"app_tok": "t"}},
               "value": {"module": "$301$0-0-0-000000001", "gateway": "g", "portNumber": "1", "pld": "01"}}
    assert takes_struct_path(body_of([minimal]))
    assert assert_same(body_of([minimal, EXAMPLES["E1"]]))[0] == "page"


# -- epoch milliseconds -----------------------------------------------------------------------


def test_epoch_strings_give_fromtimestamp_exactly() -> None:
    """A kept second plus the milliseconds is ``fromtimestamp(ms / 1000)``, to the microsecond,
    over the whole range the cache takes (and around its limit): read through the struct path,
    every millisecond but the first of a second is a cache hit."""
    import random
    from datetime import datetime, timezone

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
        hits += props["t_ingest"][:10] in _uplink_page._SECONDS
        body = body_of([raw])
        assert takes_struct_path(body)
        uplink = parse_uplink_page_content(body, URL).uplinks[0]
        expected = datetime.fromtimestamp(number / 1000, timezone.utc)
        assert uplink.ingest_time == uplink.write_time == expected
        assert uplink.ingest_time.tzinfo is uplink.write_time.tzinfo is timezone.utc
    assert hits > 3 * 999


@pytest.mark.parametrize("text", ["", "171016573753", "17101657375300", "+710165737530", " 710165737530",
                                  "١٧١٠١٦٥٧٣٧٥٣٠", "1710165737.53", "1_10165737530", "9999999999999"])
def test_other_epoch_strings_are_read_as_before(text: str) -> None:
    def lenient(value: str) -> Any:
        try:
            return _wire._epoch_ms(value)
        except Exception as exc:  # noqa: BLE001
            return type(exc)

    expected = lenient(text)
    _uplink_page._epoch_text("1710165737000")  # a kept second that the 10 first characters of some of these match
    for _ in range(2):
        try:
            assert _uplink_page._epoch_text(text) == expected
        except Exception as exc:  # noqa: BLE001
            assert type(exc) is expected


def test_the_kept_seconds_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_uplink_page, "_SECONDS", {})
    monkeypatch.setattr(_uplink_page, "_SECONDS_KEPT", 5)
    for second in range(12):
        _uplink_page._epoch_text(f"{1_710_000_000 + second}123")
        assert len(_uplink_page._SECONDS) <= 5


@pytest.mark.parametrize("changes", [
    [(("value", "portNumber"), DELETE), (("value", "port"), "12")],
    [(("value", "portNumber"), None), (("value", "port"), 12)],
    [(("value", "portNumber"), "x"), (("value", "port"), "3")],
    [(("metadata",), DELETE)], [(("metadata",), None)], [(("metadata", "props"), None)],
    [(("value", "avgSignalMetadata"), DELETE)], [(("value", "pld"), DELETE)], [(("value", "gateway"), DELETE)],
    [(("metadata", "props", "t_ingest"), DELETE), (("metadata", "props", "t_write"), None)],
])
def test_keys_the_lenient_reading_can_miss_take_the_struct_path_too(changes: list[tuple[Any, Any]]) -> None:
    """A page whose results lack what ``parse_uplink`` reads with a default is not sent to the
    slower general path: the structs give the same defaults."""
    body = body_of([mutated(EXAMPLES["E1"], changes), EXAMPLES["E3"]])
    assert takes_struct_path(body)
    assert assert_same(body)[0] == "page"


@pytest.mark.parametrize("path, value", [
    (("value", "portNumber"), "inf"), (("value", "portNumber"), "-1e999"), (("value", "portNumber"), float("inf")),
    (("value", "portNumber"), 2**70), (("value", "portNumber"), "-9223372036854775809"),
    (("metadata", "props", "t_ingest"), "99999999999999999999"), (("metadata", "props", "t_ingest"), float("-inf")),
    (("metadata", "props", "t_write"), 2**80), (("value", "avgSignalMetadata", "sf"), "1e999"),
    (("value", "avgSignalMetadata", "sf"), float("inf")),
])
def test_numbers_past_any_range_read_as_none_not_as_an_error(path: tuple[str, ...], value: Any) -> None:
    """Such a value used to raise OverflowError or OSError out of the parser (or, for a port past
    64 bits, out of the ledger write), so a poll failed again on every retry: one bad result
    stopped its AppToken's polling. (``float("inf")`` is written as JSON ``Infinity``.)"""
    outcome = assert_same(body_of([mutated(EXAMPLES["E1"], [(path, value)])]))
    assert outcome[0] == "page"
    uplink = _wire.parse_uplink(mutated(EXAMPLES["E1"], [(path, value)]), URL)
    read = {"portNumber": uplink.port, "t_ingest": uplink.ingest_time, "t_write": uplink.write_time,
            "sf": uplink.signal.sf if uplink.signal else 0}
    assert read[path[-1]] is None


def test_a_json_number_too_large_for_a_float_reads_as_none() -> None:
    raw = json.dumps(EXAMPLES["E1"]).replace('"portNumber": "0"', '"portNumber": 1e400')
    assert "1e400" in raw
    outcome = assert_same(('{"results": [' + raw + "]}").encode())
    assert outcome[0] == "page" and dict((name, value) for name, _type, value in outcome[2][0][1])["port"] is None


@pytest.mark.parametrize("odd", [b'"\xed\xa0\x80"', b'"caf\xc3\xa9"'])
def test_utf8_that_json_reads_in_a_skipped_key_reads_the_same_both_ways(odd: bytes) -> None:
    """An encoded surrogate (json reads bytes with ``surrogatepass``) and plain UTF-8."""
    body = json.dumps({"results": [EXAMPLES["E1"]]}).encode().replace(b'"eventUrl": {', b'"eventUrl": ' + odd + b', "e": {', 1)
    assert not body.isascii()
    assert assert_same(body)[0] == "page"


@pytest.mark.parametrize("odd", [b'"\xff"', b'"\xc0\xaf"', b'"ok", "x\xfe": 1'])
def test_bytes_that_are_not_utf8_in_a_skipped_key_are_not_looked_at(odd: bytes) -> None:
    """The one difference kept on purpose (see the module): the struct path reads the page, with
    the uplinks the general path gives for the same page without those bytes; the general path
    refuses the page as a whole."""
    clean = json.dumps({"results": [EXAMPLES["E1"]]}).encode()
    body = clean.replace(b'"eventUrl": {', b'"eventUrl": ' + odd + b', "e": {', 1)
    assert body != clean
    assert page_outcome(by_dicts, body)[:2] == ("error", ProtocolError)
    assert page_outcome(by_structs, body) == page_outcome(by_dicts, clean)
    assert page_outcome(by_structs, body)[0] == "page"


def test_a_result_without_a_uuid_is_not_offered_to_the_known_filter() -> None:
    nameless = mutated(EXAMPLES["E1"], [(("uuid",), "")])
    outcome = assert_same(body_of([nameless, EXAMPLES["E3"]]), lambda identities: {uuid for _ts, uuid in identities} | {""})
    assert outcome[:2] == ("error", ProtocolError)
