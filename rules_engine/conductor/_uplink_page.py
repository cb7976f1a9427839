"""An ``/events`` page read straight from the response bytes (conductor-api.md §3.4, §3.5).

:func:`parse_uplink_page_content` gives exactly what ``parse_uplink_page(loads(content), ...)``
gives, at a fraction of its cost. msgspec decodes the body into the typed structs
below, which hold only the keys an :class:`Uplink` is made of: the rest of a result (links,
``eventUrl``, tags, ``t_expire``, the signal's addresses...), about half of its JSON, is skipped
without becoming Python objects, and each field is read by slot instead of by dict lookup.

The structs accept only the usual shape, and a result is converted here only when its values are
of the usual form as well. Anything else (a missing key, another type, a time of another form,
a body msgspec refuses, any exception at all) sends the whole page to the general path, which
parses the JSON again and reads each result leniently: same result, same errors, only slower.
One difference is kept on purpose: bytes that are not UTF-8 inside what the structs skip (a
link, a tag) are not looked at here, so such a page is read, where the general path refuses it
as a whole (checking costs ~1.3k instructions per uplink, about 1%, for bytes no uplink holds).
tests/conductor/test_uplink_page_content.py holds the two paths to the same answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType, field

from ..hotpath import gc_paused, trusted
from ._http import decode_json
from ._wire import _LTE_FIELDS, _PORT_MAX, _PORT_MIN, _SYMPHONY_FIELDS, _UPLINK_FIELDS, KnownFilter, _epoch_ms, _int, _port, parse_uplink_page
from .models import LTESignal, SymphonySignal, Uplink, UplinkPage

__all__ = ["parse_uplink_page_content"]

_Number = int | str | None | UnsetType  # what ``_int`` reads; a key that is absent stays UNSET

# Conductor's epoch milliseconds are 13-digit strings, and an uplink's ingest and write times, like
# the uplinks of one page, mostly fall in the same few seconds: the datetime of the first 10 digits
# (whole seconds) is kept, and a timedelta per last 3 digits added. Up to 2**32 s (year 2106),
# ``fromtimestamp(ms / 1000)`` is exact to the microsecond, so both give the same datetime.
_MILLISECONDS = {f"{ms:03d}": timedelta(milliseconds=ms) for ms in range(1000)}
_SECONDS: dict[str, datetime] = {}
_SECONDS_KEPT = 4096
_PORT_TEXTS = {str(port): port for port in range(256)}  # what ``_port`` reads from the usual texts, in one lookup

# The result structs hold only text, numbers and each other, never a cycle: ``gc=False`` keeps
# them out of the cyclic collector (cheaper to make and free, ~0.6% of the time per uplink).


class _Signal(Struct, gc=False):
    """``value.avgSignalMetadata``: the keys ``_wire._signal`` reads, Symphony Link and LTE-M."""

    kind: str | UnsetType = field(name="@type", default=UNSET)
    sf: _Number = UNSET
    snr: _Number = UNSET
    rssi: _Number = UNSET
    frequency: _Number = UNSET
    channelNumber: _Number = UNSET
    cellId: _Number = UNSET
    cellTac: _Number = UNSET
    cellRsrp: _Number = UNSET
    cellRsrq: _Number = UNSET
    imei: str | None | UnsetType = UNSET


# A key that ``_wire.parse_uplink`` reads with ``.get`` may be missing here too (its default is
# what that reading gives for it); one it cannot do without (uuid, time, value.module) may not.
class _Value(Struct, gc=False):
    module: str
    pld: str | None = None
    portNumber: int | str | None = None
    port: int | str | None = None
    gateway: str | None = None
    linkAddress: str | None = None
    avgSignalMetadata: _Signal | None = None


class _Props(Struct, gc=False):
    app_tok: str | None = None
    net_tok: str | None = None
    acctId: str | None = None
    t_ingest: str | None = None
    t_write: str | None = None


class _Metadata(Struct, gc=False):
    props: _Props | None = None


class _Result(Struct, gc=False):
    uuid: str
    time: str
    value: _Value
    metadata: _Metadata | None = None


_NO_PROPS = _Props()


class _Page(Struct):
    results: list[_Result]
    moreRecordsExist: bool | None = None
    nextPageId: str | None = None


_DECODER = msgspec.json.Decoder(_Page)


class _Unusual(Exception):
    """A result this module does not read; the general path will."""


def parse_uplink_page_content(content: bytes, url: str, *, known: KnownFilter | None = None) -> UplinkPage:
    """``parse_uplink_page`` of the JSON ``content`` (a response body), ``known`` as there."""
    try:
        with gc_paused():
            return _usual_page(_DECODER.decode(content), url, known)
    except Exception:  # not the usual shape: the general path decides, and raises what it raises
        pass
    return parse_uplink_page(decode_json(content, url), url, known=known)


def _usual_page(page: _Page, url: str, known: KnownFilter | None) -> UplinkPage:
    next_page_id = page.nextPageId
    if page.moreRecordsExist and not next_page_id:
        raise _Unusual  # the general path raises the ProtocolError
    results, skipped = page.results, 0
    times = [_time(result) for result in results]  # and a uuid for each: the known filter asks by uuid
    stamps = [time.timestamp() for time in times]
    if known is not None and results:
        seen = known([(ts, result.uuid) for ts, result in zip(stamps, results)])
        if seen:
            kept = [i for i, result in enumerate(results) if result.uuid not in seen]
            skipped = len(results) - len(kept)
            results, times, stamps = [results[i] for i in kept], [times[i] for i in kept], [stamps[i] for i in kept]
    uplinks = tuple(map(_uplink, results, times))
    return UplinkPage.model_construct(url=url, uplinks=uplinks, more=bool(page.moreRecordsExist) and bool(next_page_id),
                                      next_page_id=next_page_id or None, skipped=skipped, times=tuple(stamps))


def _time(result: _Result) -> datetime:
    """The result's time, when it is of the form Conductor sends (``_wire._uplink_time``'s fast
    path), and the result has a uuid (the general path asks the known filter only about those)."""
    text = result.time
    if len(text) != 23 or text[19] != "." or not text[20:].isdigit() or not result.uuid:
        raise _Unusual
    return datetime.fromisoformat(text + "+00:00")


def _uplink(result: _Result, time: datetime) -> Uplink:
    """``_wire.parse_uplink`` of the same result, for the usual shape, read by slot."""
    uuid, value, metadata = result.uuid, result.value, result.metadata
    module, port, signal, pld = value.module, value.portNumber, value.avgSignalMetadata, value.pld
    if not uuid or not module:
        raise _Unusual
    if type(port) is not int or not _PORT_MIN <= port <= _PORT_MAX:
        port = _PORT_TEXTS.get(port) if type(port) is str else None  # Conductor sends the port as text
        if port is None:
            port = _port(value.portNumber)
            if port is None:
                port = _port(value.port)
    if signal is not None:
        signal = _signal(signal)
    props = (metadata.props if metadata is not None else None) or _NO_PROPS
    ingest, write = props.t_ingest, props.t_write
    if ingest is None:
        ingest_time = None
    else:
        second, ms = _SECONDS.get(ingest[:10]), _MILLISECONDS.get(ingest[10:])
        ingest_time = second + ms if second is not None and ms is not None else _epoch_text(ingest)
    if write is None:
        write_time = None
    else:
        second, ms = _SECONDS.get(write[:10]), _MILLISECONDS.get(write[10:])
        write_time = second + ms if second is not None and ms is not None else _epoch_text(write)
    return trusted(Uplink, {
        "uuid": uuid,
        "time": time,
        "module": module,
        "gateway": value.gateway,
        "port": port,
        "payload": bytes.fromhex(pld) if pld is not None else b"",  # ValueError: not hex, which the general path reports
        "app_token": props.app_tok,
        "network_token": props.net_tok,
        "account_id": props.acctId,
        "link_address": value.linkAddress,
        "signal": signal,
        "ingest_time": ingest_time,
        "write_time": write_time,
    }, _UPLINK_FIELDS)


def _signal(signal: _Signal) -> SymphonySignal | LTESignal:
    """``_wire._signal`` over the struct: a key that is present, even null, counts as there."""
    kind = signal.kind
    if signal.cellRsrp is not UNSET or signal.cellId is not UNSET or signal.imei is not UNSET \
            or (kind is not UNSET and "LTE" in kind):
        imei = signal.imei
        return trusted(LTESignal, {
            "kind": "lte",
            "cell_id": _number(signal.cellId),
            "cell_tac": _number(signal.cellTac),
            "cell_rsrp": _number(signal.cellRsrp),
            "cell_rsrq": _number(signal.cellRsrq),
            "imei": None if imei is UNSET else imei,
        }, _LTE_FIELDS)
    sf, snr, rssi, frequency, channel = signal.sf, signal.snr, signal.rssi, signal.frequency, signal.channelNumber
    if kind is UNSET and sf is UNSET and snr is UNSET and rssi is UNSET and frequency is UNSET and channel is UNSET \
            and signal.cellTac is UNSET and signal.cellRsrq is UNSET:
        raise _Unusual  # ``{}`` reads as no signal, an object of other keys as an empty one: the struct cannot tell
    return trusted(SymphonySignal, {
        "kind": "symphony",
        "sf": sf if type(sf) is int else _number(sf),
        "snr": snr if type(snr) is int else _number(snr),
        "rssi": rssi if type(rssi) is int else _number(rssi),
        "frequency": frequency if type(frequency) is int else _number(frequency),
        "channel_number": channel if type(channel) is int else _number(channel),
    }, _SYMPHONY_FIELDS)


def _number(value: Any) -> int | None:
    return None if value is UNSET else _int(value)


def _epoch_text(value: str) -> datetime | None:
    """``_wire._epoch_ms``, keeping the second of a 13-digit string for the next ones."""
    moment = _epoch_ms(value)
    if moment is not None and len(value) == 13 and value.isascii() and value.isdigit() and value < "4000000000000":
        if len(_SECONDS) >= _SECONDS_KEPT:
            _SECONDS.clear()
        _SECONDS[value[:10]] = moment - _MILLISECONDS[value[10:]]
    return moment
