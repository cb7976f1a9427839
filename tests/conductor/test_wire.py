"""Wire JSON -> models, on the shapes of the spec's examples (tests/fixtures/conductor)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from rules_engine.conductor import DownlinkMode, LTESignal, SymphonySignal
from rules_engine.conductor import _wire
from rules_engine.errors import ProtocolError

EXAMPLES = json.loads((Path(__file__).parent.parent / "fixtures" / "conductor" / "examples.json").read_text())
URL = "http://conductor.test/clientEdge/data/uplinkPayload/applicationToken/x/events/a/b"


def test_symphony_uplink_e1() -> None:
    uplink = _wire.parse_uplink(EXAMPLES["E1"], URL)
    assert uplink.uuid == "3f1c9a52-7d0e-4c8b-9a61-2e5b8f4d7c10"
    assert uplink.time == datetime(2024, 3, 11, 14, 2, 17, 512000, tzinfo=timezone.utc)
    assert uplink.module == "$301$0-0-0-0300a1b2c"
    assert uplink.gateway == "$101$0-0-0-db9504a40"
    assert uplink.port == 0
    assert uplink.payload == bytes.fromhex("0117A40C1F")
    assert uplink.payload_hex == "0117A40C1F"
    assert uplink.app_token == "9a3e51c07b22d4f68e15"
    assert uplink.network_token == "4f50454e"
    assert uplink.account_id == "4711"
    assert uplink.write_time == datetime(2024, 3, 11, 14, 2, 17, 541000, tzinfo=timezone.utc)
    assert uplink.signal == SymphonySignal(sf=9, snr=7, rssi=-97, frequency=915300000, channel_number=22)


def test_lte_uplink_e3() -> None:
    uplink = _wire.parse_uplink(EXAMPLES["E3"], URL)
    assert uplink.signal == LTESignal(cell_id=20711938, cell_tac=11522, cell_rsrp=-104, cell_rsrq=-12, imei="356726100418377")


def test_uplink_without_signal_e4() -> None:
    uplink = _wire.parse_uplink(EXAMPLES["E4"], URL)
    assert uplink.signal is None
    assert uplink.port == 7
    assert uplink.payload_hex == "AC0000002A"


def test_port_falls_back_to_value_port_then_none() -> None:
    raw = copy.deepcopy(EXAMPLES["E2"])
    del raw["value"]["portNumber"]
    raw["value"]["port"] = "9"
    assert _wire.parse_uplink(raw, URL).port == 9
    del raw["value"]["port"]
    assert _wire.parse_uplink(raw, URL).port is None


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda r: r.pop("uuid"), "without a 'uuid'"),
        (lambda r: r.pop("value"), "no 'value' object"),
        (lambda r: r["value"].pop("module"), "no 'value.module'"),
        (lambda r: (r.pop("time"), r["value"].pop("startReceiveTime")), "no readable 'time'"),
        (lambda r: r.__setitem__("time", "soon"), "no readable 'time'"),
        (lambda r: r["value"].__setitem__("pld", "XYZ"), "not hex"),
    ],
)
def test_malformed_uplink_raises_protocol_error_naming_the_url(mutate, fragment: str) -> None:
    raw = copy.deepcopy(EXAMPLES["E1"])
    mutate(raw)
    with pytest.raises(ProtocolError, match=fragment) as caught:
        _wire.parse_uplink(raw, URL)
    assert caught.value.url == URL and URL in str(caught.value)


def test_page_envelope() -> None:
    page = copy.deepcopy(EXAMPLES["page"])
    page["results"] = [EXAMPLES["E4"], EXAMPLES["E3"], EXAMPLES["E2"]]
    parsed = _wire.parse_uplink_page(page, URL)
    assert parsed.more and parsed.next_page_id == "c2ltLXBhZ2UtMQ"
    assert [u.port for u in parsed.uplinks] == [7, 0, 5]


def test_last_page_and_real_envelope() -> None:
    real = copy.deepcopy(EXAMPLES["envelope_real"])
    real["results"] = []
    parsed = _wire.parse_uplink_page(real, URL)
    assert not parsed.more and parsed.next_page_id is None and parsed.uplinks == ()


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([], "expected a JSON object"),
        ({"moreRecordsExist": False}, "without a 'results' list"),
        ({"results": [], "moreRecordsExist": True, "nextPageId": None}, "gives no 'nextPageId'"),
        ({"results": ["E1"]}, "not an object"),
    ],
)
def test_malformed_pages(body, fragment: str) -> None:
    with pytest.raises(ProtocolError, match=fragment):
        _wire.parse_uplink_page(body, URL)


def test_module_asset_with_downlink_mode() -> None:
    asset = {
        "nodeAddress": "$301$0-0-0-030001665",
        "registrationToken": "b5c96e5758dba85c5849",
        "assetInfo": {"metadata": {"props": {"downlinkMode": "2", "averageRssi": "-103.5"}}},
    }
    module = _wire.parse_module(asset, URL)
    assert module.downlink_mode is DownlinkMode.MAILBOX
    assert module.app_token == "b5c96e5758dba85c5849"
    assert module.props["averageRssi"] == "-103.5"
    asset["assetInfo"]["metadata"]["props"]["downlinkMode"] = "7"
    assert _wire.parse_module(asset, URL).downlink_mode is None


def test_issued_command_and_status() -> None:
    body = {
        "issuanceId": "abc-1",
        "issuanceTime": "2024-03-11T14:02:17.512",
        "routeAssignments": [{"assignedLink": "$401$x!101!$101$y"}],
        "commandProperties": {"payloadHex": "0102", "commReqs": {"portNumber": 3}},
    }
    command = _wire.parse_issued_command(body, URL)
    assert (command.issuance_id, command.routes, command.port, command.payload_hex) == ("abc-1", ("$401$x!101!$101$y",), 3, "0102")
    with pytest.raises(ProtocolError, match="issuanceId"):
        _wire.parse_issued_command({"status": "Pending"}, URL)
    status = _wire.parse_status({"status": "Pending"}, URL, "abc-1")
    assert status.pending and not status.succeeded and not status.failed
    assert _wire.parse_status({"status": "Acknowledged"}, URL, "x").succeeded
    assert _wire.parse_status({"status": "Expired"}, URL, "x").failed


@pytest.mark.parametrize("example", ["E1", "E2", "E3", "E4"])
def test_parsed_uplink_is_the_model_pydantic_would_validate(example: str) -> None:
    """Uplinks are built without validation (``trusted``); they must be indistinguishable from validated ones."""
    from rules_engine.conductor import Uplink

    uplink = _wire.parse_uplink(EXAMPLES[example], URL)
    validated = Uplink.model_validate(uplink.model_dump())
    assert uplink == validated
    assert uplink.model_dump() == validated.model_dump()
    assert uplink.model_fields_set == set(Uplink.model_fields)
    assert uplink.time.tzinfo is timezone.utc
    assert uplink.model_copy(update={"port": 99}).port == 99
    with pytest.raises(Exception):
        uplink.port = 1  # type: ignore[misc]  # still frozen


@pytest.mark.parametrize("text", ["2024-03-11T14:02:17.512", "2024-03-11T14:02:17.5", "2024-03-11T14:02:17Z",
                                  "2024-03-11T14:02:17.512345678", "2024-03-11T16:02:17.512+02:00"])
def test_uplink_time_fast_path_agrees_with_parse_time(text: str) -> None:
    from rules_engine.conductor.timefmt import parse_time

    assert _wire._uplink_time(text) == parse_time(text)
    assert _wire._uplink_time(text).tzinfo is timezone.utc


def test_known_results_are_dropped_before_parsing() -> None:
    """Overlap re-reads are deduped on the raw (time, uuid): never parsed, counted as skipped."""
    e1, e2 = copy.deepcopy(EXAMPLES["E1"]), copy.deepcopy(EXAMPLES["E2"])
    e1["value"]["pld"] = "not hex: parsing this one would raise"
    asked: list[list[tuple[float, str]]] = []

    def known(identities: list[tuple[float, str]]) -> set[str]:
        asked.append(identities)
        return {e1["uuid"]}

    page = _wire.parse_uplink_page({"results": [e1, e2, {"no": "uuid"}][:2], "moreRecordsExist": False}, URL, known=known)
    assert [u.uuid for u in page.uplinks] == [e2["uuid"]]
    assert page.skipped == 1
    assert asked == [[_wire.uplink_identity(e1), _wire.uplink_identity(e2)]]
    assert _wire.uplink_identity(e2) == (_wire.parse_uplink(e2, URL).time.timestamp(), e2["uuid"])
    with pytest.raises(ProtocolError):
        _wire.parse_uplink_page({"results": [e1], "moreRecordsExist": False}, URL, known=lambda ids: set())


def test_results_without_identity_are_left_to_the_parser() -> None:
    raw = copy.deepcopy(EXAMPLES["E2"])
    del raw["uuid"]
    assert _wire.uplink_identity(raw) is None
    with pytest.raises(ProtocolError, match="without a 'uuid'"):
        _wire.parse_uplink_page({"results": [raw]}, URL, known=lambda ids: {"x"})
