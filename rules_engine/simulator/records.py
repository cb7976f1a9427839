"""Ground truth: what the simulator really generated and did, for tests (Python API and /_sim/)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "UplinkRecord",
    "DeliveryRecord",
    "LossRecord",
    "AckReplyRecord",
    "CommandRecord",
    "CommandKind",
]

CommandKind = Literal[
    "app_token_multicast",  # commandTargets.targetAppToken
    "gateway_multicast",  # commandRoutes with $401$ link addresses through gateways
    "unicast",  # commandTargets.targetNodeAddresses (routed by the simulator)
    "unicast_pinned",  # commandRoutes module!101!gateway
    "gateway_broadcast",  # commandRoutes $301$0-0-0-FFFFFFFFF!101!gateway
    "gateway_internal",  # commandRoutes gw!FFE!gw / gw!FFD!gw (no module receives it)
]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class UplinkRecord(_Record):
    uuid: str
    seq: int
    app_token: str
    network_token: str
    account_id: str
    module: str
    gateway: str
    port: int
    payload_hex: str
    time: datetime
    #: When a time-window query can first see it (``t_write``); later than ``time`` under late ingest.
    visible_from: datetime
    kind: Literal["data", "ack"]
    #: For ack replies: the issuanceId of the downlink being acknowledged.
    ack_of: str | None = None
    signal_metadata: bool = True


class DeliveryRecord(_Record):
    module: str
    gateway: str
    route: str
    time: datetime


class LossRecord(_Record):
    module: str
    gateway: str
    time: datetime


class AckReplyRecord(_Record):
    module: str
    uuid: str
    time: datetime
    payload_hex: str


class CommandRecord(_Record):
    issuance_id: str
    kind: CommandKind
    issued_at: datetime
    expires_at: datetime
    app_token: str | None
    #: Module / gateway / app token addresses named by the request.
    targets: list[str]
    #: Link addresses assigned (``routeAssignments``).
    routes: list[str]
    payload_hex: str
    port: int
    ttl_s: float
    priority: int
    acked: bool
    status: str
    final_at: datetime | None
    cancelled: bool
    #: Modules that were listening when the gateway transmitted (mode and gateway allowed it).
    eligible: list[str]
    deliveries: list[DeliveryRecord]
    lost: list[LossRecord]
    ack_replies: list[AckReplyRecord]

    @property
    def delivered_modules(self) -> set[str]:
        return {d.module for d in self.deliveries}

