"""Validation of ``POST /clientEdge/issueCommand`` bodies into a plan the downlink engine runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rules_engine.conductor.addresses import BROADCAST_MODULE, app_token_node_address
from rules_engine.simulator import _invented as inv
from rules_engine.simulator.api_error import bad_request, not_found
from rules_engine.simulator.fleet import Fleet, canonical

__all__ = ["RoutePlan", "CommandPlan", "parse_command"]

_HEX = re.compile(r"^[0-9A-Fa-f]*$")
_MULTICAST_KINDS = {"app_token_multicast", "gateway_multicast", "gateway_broadcast"}


@dataclass
class RoutePlan:
    link: str
    gateway: int
    module: int | None = None  # unicast routes


@dataclass
class CommandPlan:
    kind: str
    echo: dict[str, Any]
    targets: list[str]
    routes: list[RoutePlan]
    payload: bytes
    port: int
    ttl_ms: int
    priority: int
    ack_ratio: float
    token: int | None = None
    modules: list[int] = field(default_factory=list)

    @property
    def acked(self) -> bool:
        return self.ack_ratio > 0


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise bad_request(f"commandProperties.commReqs.{name} must be an integer")
    return int(value)


def _properties(body: dict[str, Any]) -> tuple[dict[str, Any], bytes, int, int, int, float]:
    props = body.get("commandProperties")
    if not isinstance(props, dict):
        raise bad_request("commandProperties is required")
    payload_hex = props.get("payloadHex")
    if not isinstance(payload_hex, str) or not _HEX.match(payload_hex) or len(payload_hex) % 2:
        raise bad_request("commandProperties.payloadHex must be an even number of hex digits")
    reqs = props.get("commReqs")
    if not isinstance(reqs, dict):
        raise bad_request("commandProperties.commReqs is required")
    if "portNumber" not in reqs or "ttlMSecs" not in reqs:
        raise bad_request("commReqs.portNumber and commReqs.ttlMSecs are required")
    port = _int(reqs["portNumber"], "portNumber")
    if not inv.MIN_PORT <= port <= inv.MAX_PORT:
        raise bad_request(f"Port must be within [{inv.MIN_PORT}, {inv.MAX_PORT}], got {port}")
    ttl_ms = _int(reqs["ttlMSecs"], "ttlMSecs")
    if ttl_ms <= 0:
        raise bad_request("commReqs.ttlMSecs must be positive")
    priority = _int(reqs.get("priority", 10), "priority")
    ratios = []
    for name in ("requiredAckRatio", "requiredSuccessfulAckRatio"):
        value = reqs.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise bad_request(f"commReqs.{name} must be a number in [0, 1]")
        ratios.append(float(value))
    echo = {
        "payloadHex": payload_hex.upper(),
        "commReqs": {
            "requiredAckRatio": reqs.get("requiredAckRatio", 0),
            "requiredSuccessfulAckRatio": reqs.get("requiredSuccessfulAckRatio", 0),
            "priority": priority,
            "ttlMSecs": ttl_ms,
            "portNumber": port,
        },
    }
    return echo, bytes.fromhex(payload_hex), port, ttl_ms, priority, max(ratios)


def _gateway(fleet: Fleet, near: str, link: str) -> int:
    g = fleet.gateway(near)
    if g is None:
        if not canonical(near).startswith("$101$"):
            raise bad_request(f"{link}: the near end of a link address must be a gateway ($101$)")
        raise not_found(f"{link}: unknown gateway {near}")
    return g


def _parse_routes(fleet: Fleet, block: Any) -> tuple[str, list[str], list[RoutePlan], int | None, list[int]]:
    links = block.get("linkAddresses") if isinstance(block, dict) else None
    if not isinstance(links, list) or not links or not all(isinstance(x, str) for x in links):
        raise bad_request("commandRoutes.linkAddresses must be a non-empty list of link addresses")
    kinds: set[str] = set()
    tokens: set[int] = set()
    routes: list[RoutePlan] = []
    targets: list[str] = []
    modules: list[int] = []
    seen: set[str] = set()
    for raw in links:
        parts = raw.split("!")
        if len(parts) != 3:
            raise bad_request(f"not a link address (far!type!near): {raw}")
        far, link_type, near = parts
        if canonical(raw) in seen:
            continue
        seen.add(canonical(raw))
        g = _gateway(fleet, near, raw)
        link_type = link_type.upper()
        if link_type in ("FFE", "FFD"):
            if canonical(far) != canonical(near):
                raise bad_request(f"{raw}: gateway-internal routes are gw!{link_type}!gw")
            kinds.add("gateway_internal")
            routes.append(RoutePlan(raw, g))
            targets.append(fleet.gateways[g].address)
            continue
        if link_type != "101":
            raise bad_request(f"{raw}: unsupported link type {link_type}")
        if canonical(far) == canonical(BROADCAST_MODULE):
            kinds.add("gateway_broadcast")
            routes.append(RoutePlan(raw, g))
            targets.append(fleet.gateways[g].address)
        elif canonical(far).startswith("$401$"):
            t = fleet.token_by_node.get(canonical(far))
            if t is None:
                raise not_found(f"{raw}: unknown application token address {far}")
            kinds.add("gateway_multicast")
            tokens.add(t)
            routes.append(RoutePlan(raw, g))
            targets.append(fleet.gateways[g].address)
        else:
            m = fleet.module(far)
            if m is None:
                raise not_found(f"{raw}: unknown module {far}")
            kinds.add("unicast_pinned")
            routes.append(RoutePlan(raw, g, m))
            if m not in modules:
                modules.append(m)
                targets.append(fleet.module_addresses[m])
    if len(kinds) != 1 or len(tokens) > 1:
        raise bad_request("all linkAddresses of one command must be of one kind (and one application token)")
    return kinds.pop(), targets, routes, (tokens.pop() if tokens else None), modules


def parse_command(
    fleet: Fleet, body: Any, recent_gateways: Callable[[int], list[int]]
) -> CommandPlan:
    """Validate ``body``; unknown assets -> 404, anything malformed -> 400 (INVENTED codes)."""
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    has_targets = body.get("commandTargets") is not None
    has_routes = body.get("commandRoutes") is not None
    if has_targets == has_routes:
        raise bad_request("give exactly one of commandTargets and commandRoutes")
    echo, payload, port, ttl_ms, priority, ratio = _properties(body)
    token: int | None = None
    modules: list[int] = []
    routes: list[RoutePlan] = []
    if has_routes:
        kind, targets, routes, token, modules = _parse_routes(fleet, body["commandRoutes"])
        request_echo: dict[str, Any] = {"commandRoutes": {"linkAddresses": list(body["commandRoutes"]["linkAddresses"])}}
    else:
        block = body["commandTargets"]
        if not isinstance(block, dict):
            raise bad_request("commandTargets must be an object")
        if isinstance(block.get("targetAppToken"), str):
            token = fleet.token(block["targetAppToken"])
            if token is None:
                raise not_found(f"unknown application token {block['targetAppToken']}")
            kind = "app_token_multicast"
            token_hash = fleet.tokens[token].hash
            targets = [token_hash]
            heard = sorted({g for m in fleet.token_modules[token] for g in fleet.module_gateways[m]})
            node = app_token_node_address(token_hash)
            routes = [RoutePlan(f"{node}!101!{fleet.gateways[g].address}", g) for g in heard]
        elif isinstance(block.get("targetNodeAddresses"), list) and block["targetNodeAddresses"]:
            kind = "unicast"
            targets = []
            for address in block["targetNodeAddresses"]:
                m = fleet.module(address) if isinstance(address, str) else None
                if m is None:
                    if isinstance(address, str) and fleet.gateway(address) is not None:
                        raise bad_request(f"{address} is a gateway: use commandRoutes")
                    raise not_found(f"unknown module {address}")
                if m in modules:
                    continue
                modules.append(m)
                targets.append(fleet.module_addresses[m])
                for g in recent_gateways(m):
                    routes.append(RoutePlan(f"{fleet.module_addresses[m]}!101!{fleet.gateways[g].address}", g, m))
        else:
            raise bad_request("commandTargets needs targetAppToken or a non-empty targetNodeAddresses")
        request_echo = {"commandTargets": dict(block)}
    if ratio > 0 and kind in _MULTICAST_KINDS and inv.REJECT_ACKED_MULTICAST:
        raise bad_request("Multicast messages cannot be acknowledged")
    request_echo["commandProperties"] = echo
    return CommandPlan(kind, request_echo, targets, routes, payload, port, ttl_ms, priority, ratio, token, modules)
