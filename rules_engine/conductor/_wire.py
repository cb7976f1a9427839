"""Wire JSON to models. Lenient where Conductor is unconfirmed, strict where identity matters.

Every function raises :class:`ProtocolError` naming the URL, never ``KeyError``/``TypeError``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from ..errors import ProtocolError
from .models import (
    Account,
    AppToken,
    CommandStatus,
    DownlinkMode,
    Gateway,
    IssuedCommand,
    LTESignal,
    Module,
    NetworkToken,
    RouteEvent,
    SymphonySignal,
    Uplink,
    UplinkPage,
)
from .timefmt import parse_time
from ..hotpath import gc_paused, trusted

__all__ = [
    "parse_uplink",
    "parse_uplink_page",
    "uplink_identity",
    "KnownFilter",
    "parse_account",
    "parse_app_token",
    "parse_network_token",
    "parse_gateway",
    "parse_module",
    "parse_issued_command",
    "parse_status",
    "parse_route_events",
    "expect_list",
    "expect_object",
]


def expect_object(body: Any, url: str, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ProtocolError(f"expected a JSON object for {what}, got {type(body).__name__}", url)
    return body


def expect_list(body: Any, url: str, what: str) -> list[Any]:
    if not isinstance(body, list):
        raise ProtocolError(f"expected a JSON list of {what}, got {type(body).__name__}", url)
    return body


_UPLINK_FIELDS = set(Uplink.model_fields)
_SYMPHONY_FIELDS = set(SymphonySignal.model_fields)
_LTE_FIELDS = set(LTESignal.model_fields)


def _text(value: Any) -> str | None:
    if type(value) is str:
        return value
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except OverflowError:  # a float infinity (JSON 1e400)
        return None
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):  # OverflowError: "inf", "1e999"
            return None


_PORT_MIN, _PORT_MAX = -(2**63), 2**63 - 1  # what the ledger's INTEGER column holds


def _port(value: Any) -> int | None:
    """:func:`_int`, and ``None`` for a number no port is (past 64 bits: the ledger cannot store it)."""
    port = _int(value)
    return port if port is None or _PORT_MIN <= port <= _PORT_MAX else None


def _epoch_ms(value: Any) -> datetime | None:
    number = _int(value)
    if number is None:
        return None
    try:
        return datetime.fromtimestamp(number / 1000, timezone.utc)  # positional: a keyword costs ~1 µs more
    except (OverflowError, ValueError, OSError):  # past what a datetime holds, either way
        return None


def _uplink_time(text: str) -> datetime:
    """``parse_time`` with a fast path for the form Conductor sends (no zone, milliseconds)."""
    if len(text) == 23 and text[19] == "." and text[20:].isdigit():
        return datetime.fromisoformat(text + "+00:00")
    return parse_time(text)


def _props(container: Any) -> dict[str, str]:
    """``assetInfo.metadata.props`` or ``metadata.props`` as a str->str dict (lenient)."""
    if not isinstance(container, dict):
        return {}
    props = container.get("props")
    if not isinstance(props, dict):
        return {}
    return {str(key): str(value) for key, value in props.items() if value is not None}


def _signal(raw: Any) -> SymphonySignal | LTESignal | None:
    if not isinstance(raw, dict) or not raw:
        return None
    if "cellRsrp" in raw or "cellId" in raw or "imei" in raw or "LTE" in str(raw.get("@type", "")):
        return trusted(LTESignal, {
            "kind": "lte",
            "cell_id": _int(raw.get("cellId")),
            "cell_tac": _int(raw.get("cellTac")),
            "cell_rsrp": _int(raw.get("cellRsrp")),
            "cell_rsrq": _int(raw.get("cellRsrq")),
            "imei": _text(raw.get("imei")),
        }, _LTE_FIELDS)
    return trusted(SymphonySignal, {
        "kind": "symphony",
        "sf": _int(raw.get("sf")),
        "snr": _int(raw.get("snr")),
        "rssi": _int(raw.get("rssi")),
        "frequency": _int(raw.get("frequency")),
        "channel_number": _int(raw.get("channelNumber")),
    }, _SYMPHONY_FIELDS)


def parse_uplink(raw: Any, url: str) -> Uplink:
    """One result object of an uplink query (conductor-api.md §3.5), read leniently: the
    reference that the client's fast reading of a whole page (``_uplink_page``) agrees with."""
    if not isinstance(raw, dict):
        raise ProtocolError(f"uplink result is a {type(raw).__name__}, not an object", url)
    uuid = raw.get("uuid")
    if not isinstance(uuid, str) or not uuid:
        raise ProtocolError("uplink result without a 'uuid'", url)
    value = raw.get("value")
    if not isinstance(value, dict):
        raise ProtocolError(f"uplink {uuid} has no 'value' object", url)
    module = value.get("module")
    if not isinstance(module, str) or not module:
        raise ProtocolError(f"uplink {uuid} has no 'value.module'", url)
    time_text = raw.get("time") or value.get("startReceiveTime")
    try:
        time = _uplink_time(str(time_text)) if time_text else None
    except ValueError:
        time = None
    if time is None:
        raise ProtocolError(f"uplink {uuid} has no readable 'time' ({time_text!r})", url)
    pld = value.get("pld")
    try:
        payload = bytes.fromhex(pld) if isinstance(pld, str) else b""
    except ValueError as exc:
        raise ProtocolError(f"uplink {uuid} has a 'value.pld' that is not hex: {pld!r}", url) from exc
    port = _port(value.get("portNumber"))
    if port is None:
        port = _port(value.get("port"))
    metadata = raw.get("metadata")
    props = metadata.get("props") if isinstance(metadata, dict) else None
    props = props if isinstance(props, dict) else {}
    return trusted(Uplink, {
        "uuid": uuid,
        "time": time,
        "module": module,
        "gateway": _text(value.get("gateway")),
        "port": port,
        "payload": payload,
        "app_token": _text(props.get("app_tok")),
        "network_token": _text(props.get("net_tok")),
        "account_id": _text(props.get("acctId")),
        "link_address": _text(value.get("linkAddress")),
        "signal": _signal(value.get("avgSignalMetadata")),
        "ingest_time": _epoch_ms(props.get("t_ingest")),
        "write_time": _epoch_ms(props.get("t_write")),
    }, _UPLINK_FIELDS)



def uplink_identity(raw: Any) -> tuple[float, str] | None:
    """``(ts, uuid)`` of one raw result, read as :func:`parse_uplink` reads them, without parsing
    the rest; ``None`` when either is unreadable (parsing will then say why)."""
    if not isinstance(raw, dict):
        return None
    uuid, value = raw.get("uuid"), raw.get("value")
    if not isinstance(uuid, str) or not uuid:
        return None
    time_text = raw.get("time") or (value.get("startReceiveTime") if isinstance(value, dict) else None)
    try:
        return (_uplink_time(str(time_text)).timestamp(), uuid) if time_text else None
    except ValueError:
        return None


KnownFilter = Callable[[list[tuple[float, str]]], set[str]]


def parse_uplink_page(body: Any, url: str, *, known: KnownFilter | None = None) -> UplinkPage:
    """An ``/events`` page envelope (§3.4): ``results``, ``moreRecordsExist``, ``nextPageId``.

    ``known(identities) -> uuids`` (the ledger's dedupe): results it names are dropped before
    they are parsed (an overlapping poll reads most uplinks again) and counted in ``skipped``."""
    page = expect_object(body, url, "an uplink page")
    results = page.get("results")
    if not isinstance(results, list):
        raise ProtocolError("uplink page without a 'results' list", url)
    next_page_id = page.get("nextPageId")
    if next_page_id is not None and not isinstance(next_page_id, str):
        next_page_id = str(next_page_id)
    more = bool(page.get("moreRecordsExist")) and bool(next_page_id)
    if page.get("moreRecordsExist") and not next_page_id:
        raise ProtocolError("page says 'moreRecordsExist' but gives no 'nextPageId'", url)
    skipped = 0
    if known is not None and results:
        identities = [uplink_identity(item) for item in results]
        seen = known([identity for identity in identities if identity is not None])
        if seen:
            kept = [item for item, identity in zip(results, identities) if identity is None or identity[1] not in seen]
            skipped, results = len(results) - len(kept), kept
    with gc_paused():
        uplinks = tuple(parse_uplink(item, url) for item in results)
    return UplinkPage.model_construct(url=url, uplinks=uplinks, more=more, next_page_id=next_page_id or None, skipped=skipped,
                                      times=tuple(uplink.time.timestamp() for uplink in uplinks))


def parse_account(body: Any, url: str) -> Account:
    account = expect_object(body, url, "an account")
    if account.get("id") is None:
        raise ProtocolError("account without an 'id'", url)
    self_link = account.get("self")
    href = self_link.get("href") if isinstance(self_link, dict) else None
    return Account(id=str(account["id"]), name=str(account.get("name") or ""), href=_text(href))


def parse_app_token(body: Any, url: str) -> AppToken:
    token = expect_object(body, url, "an application token")
    if not isinstance(token.get("hash"), str):
        raise ProtocolError("application token without a 'hash'", url)
    return AppToken(hash=token["hash"], name=_text(token.get("tokenName")))


def parse_network_token(body: Any, url: str) -> NetworkToken:
    token = expect_object(body, url, "a network token")
    if not isinstance(token.get("hash"), str):
        raise ProtocolError("network token without a 'hash'", url)
    return NetworkToken(hash=token["hash"], name=_text(token.get("tokenName")))


def _asset_props(asset: dict[str, Any]) -> dict[str, str]:
    info = asset.get("assetInfo")
    return _props(info.get("metadata")) if isinstance(info, dict) else {}


def parse_gateway(body: Any, url: str) -> Gateway:
    gateway = expect_object(body, url, "a gateway")
    if not isinstance(gateway.get("nodeAddress"), str):
        raise ProtocolError("gateway without a 'nodeAddress'", url)
    return Gateway(
        address=gateway["nodeAddress"],
        name=_text(gateway.get("nodeName")),
        network_token=_text(gateway.get("registrationToken")),
        props=_asset_props(gateway),
    )


def parse_module(body: Any, url: str) -> Module:
    module = expect_object(body, url, "a module")
    if not isinstance(module.get("nodeAddress"), str):
        raise ProtocolError("module without a 'nodeAddress'", url)
    props = _asset_props(module)
    mode_number = _int(props.get("downlinkMode"))
    mode = DownlinkMode(mode_number) if mode_number in (0, 1, 2) else None
    return Module(
        address=module["nodeAddress"],
        name=_text(module.get("nodeName")),
        app_token=_text(module.get("registrationToken")),
        downlink_mode=mode,
        props=props,
    )


def parse_issued_command(body: Any, url: str) -> IssuedCommand:
    command = expect_object(body, url, "an issued command")
    issuance_id = command.get("issuanceId")
    if issuance_id is None or isinstance(issuance_id, (dict, list)):
        raise ProtocolError("issued command without an 'issuanceId'", url)
    issuance_time = None
    if command.get("issuanceTime"):
        try:
            issuance_time = parse_time(str(command["issuanceTime"]))
        except ValueError:
            issuance_time = None
    routes: list[str] = []
    assignments = command.get("routeAssignments")
    if isinstance(assignments, list):
        for assignment in assignments:
            if isinstance(assignment, dict) and isinstance(assignment.get("assignedLink"), str):
                routes.append(assignment["assignedLink"])
    properties = command.get("commandProperties")
    payload_hex = port = None
    if isinstance(properties, dict):
        payload_hex = _text(properties.get("payloadHex"))
        comm_reqs = properties.get("commReqs")
        if isinstance(comm_reqs, dict):
            port = _int(comm_reqs.get("portNumber"))
    return IssuedCommand(
        issuance_id=str(issuance_id),
        issuance_time=issuance_time,
        routes=tuple(routes),
        payload_hex=payload_hex,
        port=port,
    )


def parse_status(body: Any, url: str, issuance_id: str) -> CommandStatus:
    status = expect_object(body, url, "a command status")
    if not isinstance(status.get("status"), str):
        raise ProtocolError("command status without a 'status' string", url)
    return CommandStatus(issuance_id=issuance_id, text=status["status"])


def parse_route_events(body: Any, url: str) -> tuple[RouteEvent, ...]:
    detail = expect_object(body, url, "a route status detail")
    events = detail.get("downlinkEvents")
    if not isinstance(events, list):
        raise ProtocolError("status detail without a 'downlinkEvents' list", url)
    parsed = []
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("state"), str):
            raise ProtocolError("downlink event without a 'state'", url)
        when = None
        if event.get("stateTime"):
            try:
                when = parse_time(str(event["stateTime"]))
            except ValueError:
                when = None
        parsed.append(RouteEvent(state=event["state"], time=when))
    return tuple(parsed)
