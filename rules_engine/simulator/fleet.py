"""The runtime fleet: compact indexes over a :class:`FleetConfig` plus the mutable device state."""

from __future__ import annotations

from array import array
from datetime import datetime

from rules_engine.conductor.addresses import app_token_node_address, normalize_address
from rules_engine.simulator.config import AppTokenConfig, DownlinkMode, FleetConfig

__all__ = ["Fleet", "canonical"]


def canonical(address: str) -> str:
    """Lookup key of an address or token: percent-decoded, lowercase."""
    return normalize_address(address).strip().lower()


class Fleet:
    """Indexes by number: module ``m``, gateway ``g``, app token ``t``. Not thread-safe by itself."""

    def __init__(self, config: FleetConfig, start: datetime) -> None:
        self.config = config
        self.start = start
        self.account = config.account
        self.tokens: list[AppTokenConfig] = list(config.app_tokens)
        self.token_index = {t.hash: i for i, t in enumerate(self.tokens)}
        self.token_by_node = {canonical(app_token_node_address(t.hash)): i for i, t in enumerate(self.tokens)}
        self.net_tokens = list(config.network_tokens)
        self.net_index = {n.hash: i for i, n in enumerate(self.net_tokens)}
        self.gateways = list(config.gateways)
        self.gateway_index = {canonical(g.address): i for i, g in enumerate(self.gateways)}
        modules = config.modules
        self.module_addresses = [m.address for m in modules]
        self.module_index = {canonical(a): i for i, a in enumerate(self.module_addresses)}
        self.module_token = array("i", (self.token_index[m.app_token] for m in modules))
        self.module_gateways: list[tuple[int, ...]] = [
            tuple(self.gateway_index[canonical(g)] for g in m.gateways) for m in modules
        ]
        self.module_mode = bytearray(int(m.downlink_mode) for m in modules)
        self.module_lte = bytearray(1 if m.address.startswith("$303$") else 0 for m in modules)
        default_ms = int(config.uplink_interval_s * 1000)
        self.module_interval_ms = array(
            "q", (int(m.uplink_interval_s * 1000) if m.uplink_interval_s else default_ms for m in modules)
        )
        self.token_modules: list[list[int]] = [[] for _ in self.tokens]
        self.gateway_modules: list[list[int]] = [[] for _ in self.gateways]
        for m, gateways in enumerate(self.module_gateways):
            self.token_modules[self.module_token[m]].append(m)
            for g in gateways:
                self.gateway_modules[g].append(m)
        # Mutable per-module state shown in the module asset (sparse: most modules never change).
        self.multicast_count: dict[int, int] = {}
        self.unicast_count: dict[int, int] = {}
        self.mailbox_request_ms: dict[int, int] = {}
        self.last_modified_ms: dict[int, int] = {}

    # -- look-ups (None when unknown) -------------------------------------------------------
    def module(self, address: str) -> int | None:
        return self.module_index.get(canonical(address))

    def gateway(self, address: str) -> int | None:
        return self.gateway_index.get(canonical(address))

    def token(self, value: str) -> int | None:
        key = canonical(value)
        index = self.token_index.get(key)
        return index if index is not None else self.token_by_node.get(key)

    def net_token(self, value: str) -> int | None:
        return self.net_index.get(canonical(value))

    def hears(self, g: int, m: int) -> bool:
        return g in self.module_gateways[m]

    def mode(self, m: int) -> DownlinkMode:
        return DownlinkMode(self.module_mode[m])

    def set_mode(self, m: int, mode: DownlinkMode | int, now_ms: int) -> None:
        self.module_mode[m] = int(DownlinkMode(mode))
        self.last_modified_ms[m] = now_ms

    def add_token(self, token: AppTokenConfig) -> int:
        index = len(self.tokens)
        self.tokens.append(token)
        self.token_index[token.hash] = index
        self.token_by_node[canonical(app_token_node_address(token.hash))] = index
        self.token_modules.append([])
        return index
