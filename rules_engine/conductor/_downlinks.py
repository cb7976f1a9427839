"""Request bodies for ``POST issueCommand``: the four kinds of downlink (conductor-api.md §4.2)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Iterable

from ..errors import InvalidRequestError
from .addresses import (
    BROADCAST_MODULE,
    app_token_node_address,
    is_app_token,
    link_address,
    node_type,
)

__all__ = ["DownlinkOptions", "multicast_body", "unicast_body", "broadcast_body", "payload_hex"]

# "One link must ack", as the official client sends it for acknowledged downlinks.
_ACK_RATIO = sys.float_info.epsilon
APP_PORTS = range(0, 128)


@dataclass(frozen=True)
class DownlinkOptions:
    """Delivery options shared by every downlink. Ports 0..127 (128 is reserved for file transfer)."""

    ttl_s: float = 60.0
    port: int = 0
    priority: int = 10

    def __post_init__(self) -> None:
        if isinstance(self.port, bool) or not isinstance(self.port, int) or self.port not in APP_PORTS:
            raise InvalidRequestError(
                f"downlink port must be an integer from 0 to 127, got {self.port!r} "
                "(port 128 is reserved for Symphony Link file transfer)"
            )
        if not self.ttl_s > 0:
            raise InvalidRequestError(f"downlink TTL must be positive seconds, got {self.ttl_s!r}")
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise InvalidRequestError(f"downlink priority must be an integer, got {self.priority!r}")


def payload_hex(payload: bytes | bytearray | str) -> str:
    """Uppercase hex of a payload given as bytes or as a hex string."""
    if isinstance(payload, (bytes, bytearray)):
        data = bytes(payload)
    elif isinstance(payload, str):
        text = payload.strip().replace(" ", "")
        try:
            data = bytes.fromhex(text)
        except ValueError as exc:
            raise InvalidRequestError(f"payload string is not hex: {payload!r}") from exc
    else:
        raise InvalidRequestError(f"payload must be bytes or a hex string, got {type(payload).__name__}")
    if not data:
        raise InvalidRequestError("downlink payload is empty")
    return data.hex().upper()


def _properties(payload: bytes | str, options: DownlinkOptions, acked: bool) -> dict[str, Any]:
    ratio = _ACK_RATIO if acked else 0
    return {
        "payloadHex": payload_hex(payload),
        "commReqs": {
            "requiredAckRatio": ratio,
            "requiredSuccessfulAckRatio": ratio,
            "priority": int(options.priority),
            "ttlMSecs": int(options.ttl_s * 1000),
            "portNumber": int(options.port),
        },
    }


def _gateway_list(gateways: str | Iterable[str] | None) -> list[str]:
    if gateways is None:
        return []
    listed = [gateways] if isinstance(gateways, str) else list(gateways)
    for gateway in listed:
        if not isinstance(gateway, str) or not node_type(gateway).is_gateway:
            raise InvalidRequestError(f"not a gateway node address ($101$...): {gateway!r}")
    if len(set(listed)) != len(listed):
        raise InvalidRequestError(f"the same gateway is listed twice: {listed}")
    return listed


def multicast_body(
    app_token: str, payload: bytes | str, options: DownlinkOptions, gateways: str | Iterable[str] | None = None
) -> dict[str, Any]:
    """Multicast to every device of an AppToken, or routed through the given gateway(s)."""
    if not is_app_token(app_token):
        raise InvalidRequestError(f"not an application token (20 hex characters): {app_token!r}")
    routed = _gateway_list(gateways)
    properties = _properties(payload, options, acked=False)
    if not routed:
        return {"commandTargets": {"targetAppToken": app_token}, "commandProperties": properties}
    token_node = app_token_node_address(app_token)
    links = [link_address(token_node, gateway) for gateway in routed]
    return {"commandRoutes": {"linkAddresses": links}, "commandProperties": properties}


def unicast_body(
    module: str, payload: bytes | str, options: DownlinkOptions, gateway: str | None = None, acked: bool = True
) -> dict[str, Any]:
    """Unicast to one module, Conductor-acked by default; pinned to one gateway if given."""
    if not node_type(module).is_module:
        raise InvalidRequestError(f"not a module node address ($301$..., $303$...): {module!r}")
    properties = _properties(payload, options, acked=acked)
    if gateway is None:
        return {"commandTargets": {"targetNodeAddresses": [module]}, "commandProperties": properties}
    (pinned,) = _gateway_list(gateway)
    return {"commandRoutes": {"linkAddresses": [link_address(module, pinned)]}, "commandProperties": properties}


def broadcast_body(gateway: str, payload: bytes | str, options: DownlinkOptions) -> dict[str, Any]:
    """Broadcast to every module listening to one gateway (unacked)."""
    (routed,) = _gateway_list(gateway)
    return {
        "commandRoutes": {"linkAddresses": [link_address(BROADCAST_MODULE, routed)]},
        "commandProperties": _properties(payload, options, acked=False),
    }
