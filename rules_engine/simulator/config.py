"""The simulated fleet as pydantic configuration: account, tokens, gateways, modules, behaviour.

``FleetConfig.generate(devices=200, gateways=4, app_tokens=1, seed=7)`` builds a deterministic
fleet; every field can also be written by hand (or loaded from JSON) for a precise scenario.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import IntEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rules_engine.clock import utc
from rules_engine.simulator import _invented as inv

__all__ = [
    "DownlinkMode",
    "AccountConfig",
    "AppTokenConfig",
    "NetworkTokenConfig",
    "GatewayConfig",
    "ModuleConfig",
    "CodecConfig",
    "AckReplyConfig",
    "DownlinkConfig",
    "ServiceConfig",
    "FleetConfig",
]

_APP_TOKEN = re.compile(r"^[0-9a-f]{20}$")
_NET_TOKEN = re.compile(r"^[0-9a-f]{8}$")
_GATEWAY = re.compile(r"^\$101\$[0-9a-f]{1,9}-[0-9a-f]{1,9}-[0-9a-f]{1,9}-[0-9a-f]{1,9}$")
_MODULE = re.compile(r"^\$30[13]\$[0-9a-f]{1,9}-[0-9a-f]{1,9}-[0-9a-f]{1,9}-[0-9a-f]{1,9}$")


class DownlinkMode(IntEnum):
    """Symphony Link downlink modes (host-interface ``ll_downlink_mode``)."""

    OFF = 0
    ALWAYS = 1
    MAILBOX = 2


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class AccountConfig(_Model):
    id: str = "4711"
    name: str = inv.DEFAULT_ACCOUNT_NAME
    username: str = inv.DEFAULT_USERNAME
    password: str = inv.DEFAULT_PASSWORD


class AppTokenConfig(_Model):
    hash: str
    name: str

    @field_validator("hash")
    @classmethod
    def _hash(cls, value: str) -> str:
        if not _APP_TOKEN.match(value):
            raise ValueError("an application token is 20 lowercase hex characters")
        return value


class NetworkTokenConfig(_Model):
    hash: str
    name: str

    @field_validator("hash")
    @classmethod
    def _hash(cls, value: str) -> str:
        if not _NET_TOKEN.match(value):
            raise ValueError("a network token is 8 lowercase hex characters")
        return value


class GatewayConfig(_Model):
    address: str
    network_token: str
    name: str = ""
    #: The virtual gateway that LTE-M modules report (real: ``$101$0-0-0000128-66173d0b0``).
    virtual: bool = False

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _GATEWAY.match(value):
            raise ValueError("a gateway address looks like $101$0-0-0-db935317c (lowercase hex)")
        return value


class ModuleConfig(_Model):
    address: str
    app_token: str
    #: Gateways that hear this module; the first is the primary.
    gateways: list[str] = Field(min_length=1)
    downlink_mode: DownlinkMode = DownlinkMode.ALWAYS
    #: None: the fleet's ``uplink_interval_s``.
    uplink_interval_s: float | None = Field(default=None, gt=0)
    name: str = ""

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _MODULE.match(value):
            raise ValueError("a module address looks like $301$0-0-0-030001665 or $303$... (lowercase hex)")
        return value

    @property
    def is_lte(self) -> bool:
        return self.address.startswith("$303$")


class CodecConfig(_Model):
    """The payload of regular uplinks; the byte layout is documented in docs/simulator.md."""

    kind: Literal["env-v1", "raw"] = "env-v1"
    port: int = Field(default=1, ge=0, le=255)
    temperature_base_c: tuple[float, float] = (18.0, 28.0)
    temperature_amplitude_c: float = 5.0
    temperature_noise_c: float = 0.3
    humidity_base_pct: tuple[float, float] = (30.0, 70.0)
    battery_start_mv: int = 3600
    battery_drain_mv_per_uplink: float = 0.05
    battery_min_mv: int = 2800
    low_battery_mv: int = 3000
    button_probability: float = Field(default=0.02, ge=0, le=1)
    tamper_probability: float = Field(default=0.002, ge=0, le=1)
    raw_length: int = Field(default=8, ge=0, le=242)


class AckReplyConfig(_Model):
    """Application-level ack replies: ``AC`` + first 4 bytes of the received downlink, port 7."""

    enabled: bool = True
    probability: float = Field(default=1.0, ge=0, le=1)
    delay_s: float = Field(default=2.0, ge=0)
    jitter_s: float = Field(default=0.0, ge=0)
    port: int = Field(default=inv.ACK_PORT, ge=0, le=255)
    #: False: the ack uplinks carry ``avgSignalMetadata: null`` and no links (opt-in, like E4).
    signal_metadata: bool = True


class DownlinkConfig(_Model):
    loss_probability: float = Field(default=0.0, ge=0, le=1)
    latency_s: float = Field(default=inv.DOWNLINK_LATENCY_S, ge=0)
    ack_retry_interval_s: float = Field(default=inv.ACK_RETRY_INTERVAL_S, gt=0)


class ServiceConfig(_Model):
    """Server-side behaviour that real Conductor leaves UNCONFIRMED (see ``_invented.py``)."""

    page_size: int = Field(default=inv.DEFAULT_PAGE_SIZE, ge=1)
    max_page_size: int = Field(default=inv.MAX_PAGE_SIZE, ge=1)
    most_recent_default: int = Field(default=inv.DEFAULT_MOST_RECENT, ge=1)
    future_stop_tolerance_s: float = Field(default=inv.FUTURE_STOP_TOLERANCE_S, ge=0)
    route_window_s: float = Field(default=inv.ROUTE_WINDOW_S, gt=0)
    ingest_delay_ms: tuple[int, int] = inv.INGEST_DELAY_MS


class FleetConfig(_Model):
    seed: int = 0
    account: AccountConfig = Field(default_factory=AccountConfig)
    app_tokens: list[AppTokenConfig] = Field(default_factory=list)
    network_tokens: list[NetworkTokenConfig] = Field(default_factory=list)
    gateways: list[GatewayConfig] = Field(default_factory=list)
    modules: list[ModuleConfig] = Field(default_factory=list)
    uplink_interval_s: float = Field(default=60.0, gt=0)
    uplink_jitter_s: float = Field(default=6.0, ge=0)
    #: Probability that an uplink comes through the module's primary gateway.
    primary_gateway_probability: float = Field(default=0.8, ge=0, le=1)
    #: When uplinks start (server clock); None: the simulator's start time minus ``history_s``.
    start: datetime | None = None
    history_s: float = Field(default=0.0, ge=0)
    codec: CodecConfig = Field(default_factory=CodecConfig)
    ack_replies: AckReplyConfig = Field(default_factory=AckReplyConfig)
    downlinks: DownlinkConfig = Field(default_factory=DownlinkConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)

    @field_validator("start")
    @classmethod
    def _start(cls, value: datetime | None) -> datetime | None:
        return utc(value) if value is not None else None

    @model_validator(mode="after")
    def _references(self) -> FleetConfig:
        tokens = {t.hash for t in self.app_tokens}
        nets = {n.hash for n in self.network_tokens}
        gateways = {g.address for g in self.gateways}
        if len(tokens) != len(self.app_tokens):
            raise ValueError("duplicate application token")
        if len(gateways) != len(self.gateways):
            raise ValueError("duplicate gateway address")
        for gateway in self.gateways:
            if gateway.network_token not in nets:
                raise ValueError(f"gateway {gateway.address}: unknown network token {gateway.network_token}")
        seen: set[str] = set()
        for module in self.modules:
            if module.address in seen:
                raise ValueError(f"duplicate module address {module.address}")
            seen.add(module.address)
            if module.app_token not in tokens:
                raise ValueError(f"module {module.address}: unknown application token {module.app_token}")
            for gateway_address in module.gateways:
                if gateway_address not in gateways:
                    raise ValueError(f"module {module.address}: unknown gateway {gateway_address}")
        return self

    # -- convenience look-ups for tests ------------------------------------------------------
    def modules_of(self, app_token: str) -> list[ModuleConfig]:
        return [m for m in self.modules if m.app_token == app_token]

    def modules_with_mode(self, mode: DownlinkMode | int, app_token: str | None = None) -> list[ModuleConfig]:
        return [m for m in self.modules if m.downlink_mode == mode and (app_token is None or m.app_token == app_token)]

    @classmethod
    def generate(
        cls,
        devices: int = 200,
        gateways: int = 4,
        app_tokens: int = 1,
        *,
        seed: int = 0,
        network_tokens: int = 1,
        lte_fraction: float = 0.0,
        app_token_hashes: Sequence[str] = (),
        downlink_modes: Mapping[DownlinkMode, float] | None = None,
        max_gateways_per_module: int = 2,
        uplink_interval_s: float = 60.0,
        uplink_jitter_s: float | None = None,
        username: str = inv.DEFAULT_USERNAME,
        password: str = inv.DEFAULT_PASSWORD,
        **overrides: object,
    ) -> FleetConfig:
        """A deterministic fleet: the same arguments always give the same fleet.

        Modules are spread round-robin over the AppTokens; each is heard by 1..
        ``max_gateways_per_module`` gateways (the first is its primary); a fraction ``lte_fraction``
        are LTE-M (``$303$``) modules heard only by a virtual LTE gateway. Downlink modes are drawn
        with ``downlink_modes`` weights (default ALWAYS 0.7, MAILBOX 0.2, OFF 0.1).
        """
        n_lte = round(devices * lte_fraction)
        if gateways < 1 and devices > n_lte:
            raise ValueError("Symphony modules need at least one gateway")
        if devices > 0xFFFFFF:
            raise ValueError("at most 16M devices")
        if app_tokens < 1 and not app_token_hashes and devices:
            raise ValueError("modules need at least one application token")
        rng = random.Random(seed)
        hashes = [h.lower() for h in app_token_hashes]
        while len(hashes) < app_tokens:
            candidate = f"{rng.getrandbits(80):020x}"
            if candidate not in hashes:
                hashes.append(candidate)
        tokens = [AppTokenConfig(hash=h, name=f"App Token {i + 1}") for i, h in enumerate(hashes)]
        nets = [NetworkTokenConfig(hash=inv.OPEN_NETWORK_TOKEN, name="OPEN")]
        while len(nets) < max(1, network_tokens):
            candidate = f"{rng.getrandbits(32):08x}"
            if candidate not in {n.hash for n in nets}:
                nets.append(NetworkTokenConfig(hash=candidate, name=f"Network {len(nets) + 1}"))
        gateway_ids = rng.sample(range(0x1000000), gateways)
        gws = [
            GatewayConfig(
                address=f"$101$0-0-0-db9{gid:06x}",
                network_token=nets[i % len(nets)].hash,
                name=f"Gateway {i + 1}",
            )
            for i, gid in enumerate(gateway_ids)
        ]
        lte_gateway = None
        if n_lte:
            lte_gateway = GatewayConfig(
                address=f"$101$0-0-0000128-{rng.getrandbits(36):09x}",
                network_token=nets[0].hash,
                name="LTE-M virtual gateway",
                virtual=True,
            )
        weights = dict(downlink_modes or {DownlinkMode.ALWAYS: 0.7, DownlinkMode.MAILBOX: 0.2, DownlinkMode.OFF: 0.1})
        modes = list(weights)
        mode_weights = [weights[m] for m in modes]
        offset = rng.getrandbits(24)
        lte_offset = rng.getrandbits(36)
        modules: list[ModuleConfig] = []
        gateway_count = len(gws)
        for i in range(devices):
            token = hashes[i % len(hashes)] if hashes else ""
            mode = DownlinkMode(rng.choices(modes, mode_weights)[0])
            if i < devices - n_lte:
                ident = (i * 0x9E3779 + offset) & 0xFFFFFF
                address = f"$301$0-0-0-030{ident:06x}"
                k = rng.randint(1, max(1, min(max_gateways_per_module, gateway_count)))
                primary = i % gateway_count
                heard = [gws[primary].address] + [
                    gws[g].address for g in rng.sample(range(gateway_count), k) if g != primary
                ][: k - 1]
            else:
                ident = (i * 0x9E3779B97 + lte_offset) & 0xFFFFFFFFF
                address = f"$303$0-0-0001450-{ident:09x}"
                heard = [lte_gateway.address]  # type: ignore[union-attr]
            modules.append(
                ModuleConfig.model_construct(
                    address=address,
                    app_token=token,
                    gateways=heard,
                    downlink_mode=mode,
                    uplink_interval_s=None,
                    name=f"sim-module-{i + 1:05d}",
                )
            )
        fields: dict[str, object] = {
            "seed": seed,
            "account": AccountConfig(username=username, password=password),
            "app_tokens": tokens,
            "network_tokens": nets,
            "gateways": gws + ([lte_gateway] if lte_gateway else []),
            "modules": modules,
            "uplink_interval_s": uplink_interval_s,
            "uplink_jitter_s": uplink_interval_s * 0.1 if uplink_jitter_s is None else uplink_jitter_s,
        }
        fields.update(overrides)
        return cls(**fields)
