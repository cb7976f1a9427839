"""Async client for the Link Labs Conductor REST API (see docs/conductor-client.md)."""

from __future__ import annotations

from ._downlinks import DownlinkOptions
from ._http import RetryPolicy
from .addresses import BROADCAST_MODULE, NodeType, app_token_node_address, link_address, node_type
from .client import ConductorClient, ConductorURLs
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
    SubjectType,
    SymphonySignal,
    Uplink,
    UplinkPage,
)
from .timefmt import format_time, parse_time

__all__ = [
    "ConductorClient",
    "ConductorURLs",
    "RetryPolicy",
    "DownlinkOptions",
    "SubjectType",
    "DownlinkMode",
    "Uplink",
    "UplinkPage",
    "SymphonySignal",
    "LTESignal",
    "Account",
    "AppToken",
    "NetworkToken",
    "Gateway",
    "Module",
    "IssuedCommand",
    "CommandStatus",
    "RouteEvent",
    "NodeType",
    "node_type",
    "app_token_node_address",
    "link_address",
    "BROADCAST_MODULE",
    "format_time",
    "parse_time",
]
