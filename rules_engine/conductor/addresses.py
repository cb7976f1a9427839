"""Conductor node addresses: ``$<type hex>$<quad id>`` and link addresses ``far!type!near``."""

from __future__ import annotations

import re
from enum import Enum

__all__ = [
    "NodeType",
    "node_type",
    "app_token_node_address",
    "link_address",
    "is_app_token",
    "is_network_token",
    "BROADCAST_MODULE",
    "normalize_address",
]

_ADDRESS = re.compile(r"^\$([0-9A-Fa-f]{1,4})\$([0-9A-Fa-f]{1,9}-[0-9A-Fa-f]{1,9}-[0-9A-Fa-f]{1,9}-[0-9A-Fa-f]{1,9})$")
_APP_TOKEN = re.compile(r"^[0-9A-Fa-f]{20}$")
_NET_TOKEN = re.compile(r"^[0-9A-Fa-f]{8}$")

BROADCAST_MODULE = "$301$0-0-0-FFFFFFFFF"


class NodeType(str, Enum):
    """The 16-bit node type of an address, written in hex without leading zeros."""

    GATEWAY = "101"
    VIRTUAL_GATEWAY_IOS = "1FF"
    VIRTUAL_GATEWAY_ANDROID = "1FE"
    REPEATER = "201"
    SYMPHONY_MODULE = "301"
    LORAWAN_MODULE = "302"
    LTEM_MODULE = "303"
    APP_TOKEN = "401"
    VIRTUAL_MODULE = "501"
    SYMBLE_MODULE = "502"
    UNKNOWN = "?"

    @property
    def is_module(self) -> bool:
        return self in _MODULE_TYPES

    @property
    def is_gateway(self) -> bool:
        return self in (NodeType.GATEWAY, NodeType.VIRTUAL_GATEWAY_IOS, NodeType.VIRTUAL_GATEWAY_ANDROID)


_MODULE_TYPES = {
    NodeType.SYMPHONY_MODULE,
    NodeType.LORAWAN_MODULE,
    NodeType.LTEM_MODULE,
    NodeType.VIRTUAL_MODULE,
    NodeType.SYMBLE_MODULE,
}


def normalize_address(address: str) -> str:
    """Undo percent-encoding of ``$`` and ``!`` (real clients send ``%24``)."""
    return address.replace("%24", "$").replace("%21", "!")


def node_type(address: str) -> NodeType:
    """The :class:`NodeType` of a node address; ``UNKNOWN`` when it is not one.

    >>> node_type("$303$0-0-0001450-2bf65e93d")
    <NodeType.LTEM_MODULE: '303'>
    """
    match = _ADDRESS.match(normalize_address(address).split("!", 1)[0])
    if not match:
        return NodeType.UNKNOWN
    code = match.group(1).upper().lstrip("0") or "0"
    try:
        return NodeType(code)
    except ValueError:
        return NodeType.UNKNOWN


def is_app_token(value: str) -> bool:
    return bool(_APP_TOKEN.match(value))


def is_network_token(value: str) -> bool:
    return bool(_NET_TOKEN.match(value))


def app_token_node_address(app_token: str) -> str:
    """The ``$401$`` node address of a 20-hex application token (case kept).

    >>> app_token_node_address("1bcda4a2e8c1af83d330")
    '$401$1bcda4a2-e8c1af83-0-00000d330'
    """
    if not is_app_token(app_token):
        raise ValueError(f"not an application token (20 hex characters): {app_token!r}")
    return f"$401${app_token[0:8]}-{app_token[8:16]}-0-{app_token[16:].rjust(9, '0')}"


def link_address(far: str, near: str, link_type: str = "101") -> str:
    """A link address ``<far>!<link type>!<near>``, e.g. a module as heard by a gateway."""
    return f"{far}!{link_type}!{near}"
