"""Typed, frozen models of what Conductor returns. Built from wire JSON by :mod:`._wire`."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "SubjectType",
    "DownlinkMode",
    "SymphonySignal",
    "LTESignal",
    "Uplink",
    "UplinkPage",
    "Account",
    "AppToken",
    "NetworkToken",
    "Gateway",
    "Module",
    "IssuedCommand",
    "CommandStatus",
    "RouteEvent",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SubjectType(str, Enum):
    """The subject of an uplink or command query (the path segment Conductor expects)."""

    APP_TOKEN = "applicationToken"
    NODE = "node"
    NETWORK_TOKEN = "networkToken"
    ACCOUNT = "accountId"
    ASSET_GROUP = "assetGroup"


class DownlinkMode(int, Enum):
    """A module's downlink mode (``assetInfo.metadata.props.downlinkMode``)."""

    OFF = 0
    ALWAYS = 1
    MAILBOX = 2


class SymphonySignal(_Frozen):
    kind: Literal["symphony"] = "symphony"
    sf: int | None = None
    snr: int | None = None
    rssi: int | None = None
    frequency: int | None = None
    channel_number: int | None = None


class LTESignal(_Frozen):
    kind: Literal["lte"] = "lte"
    cell_id: int | None = None
    cell_tac: int | None = None
    cell_rsrp: int | None = None
    cell_rsrq: int | None = None
    imei: str | None = None


class Uplink(_Frozen):
    """One uplink event. ``uuid`` is its identity; ``time`` is an aware UTC datetime."""

    uuid: str
    time: datetime
    module: str
    gateway: str | None = None
    port: int | None = None
    payload: bytes = b""
    app_token: str | None = None
    network_token: str | None = None
    account_id: str | None = None
    link_address: str | None = None
    signal: SymphonySignal | LTESignal | None = None
    ingest_time: datetime | None = None
    write_time: datetime | None = None

    @property
    def payload_hex(self) -> str:
        """The payload as uppercase hex, as Conductor writes it."""
        return self.payload.hex().upper()


class UplinkPage(_Frozen):
    """One page of an uplink query. ``skipped``: results dropped unparsed as already known.
    ``times``: each uplink's ``time`` in epoch seconds, in the order of ``uplinks`` (the client's
    parsers fill it; a page built by hand may leave it empty)."""

    url: str
    uplinks: tuple[Uplink, ...]
    more: bool
    next_page_id: str | None = None
    skipped: int = 0
    times: tuple[float, ...] = ()


class Account(_Frozen):
    id: str
    name: str
    href: str | None = None


class AppToken(_Frozen):
    hash: str
    name: str | None = None


class NetworkToken(_Frozen):
    hash: str
    name: str | None = None


class Gateway(_Frozen):
    address: str
    name: str | None = None
    network_token: str | None = None
    props: dict[str, str] = {}


class Module(_Frozen):
    address: str
    name: str | None = None
    app_token: str | None = None
    downlink_mode: DownlinkMode | None = None
    props: dict[str, str] = {}


class IssuedCommand(_Frozen):
    """A downlink as Conductor recorded it. ``routes`` are the assigned link addresses."""

    issuance_id: str
    issuance_time: datetime | None = None
    routes: tuple[str, ...] = ()
    payload_hex: str | None = None
    port: int | None = None


class CommandStatus(_Frozen):
    """The status of an issued command. ``text`` is Conductor's string, kept verbatim."""

    issuance_id: str
    text: str

    @property
    def pending(self) -> bool:
        return "Pending" in self.text

    @property
    def succeeded(self) -> bool:
        return not self.pending and ("Success" in self.text or "Acknowledged" in self.text)

    @property
    def failed(self) -> bool:
        return not self.pending and not self.succeeded


class RouteEvent(_Frozen):
    """One state change of a command on one route (``Issued`` … ``Sent`` or ``Expired``)."""

    state: str
    time: datetime | None = None
