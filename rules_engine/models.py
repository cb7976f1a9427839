"""Frozen models passed between pipeline stages: events in, firings and action intents out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .conductor.models import Uplink

__all__ = [
    "Uplink",
    "DecodedUplink",
    "UplinkEvent",
    "ScheduleEvent",
    "SilenceEvent",
    "SendEvent",
    "Event",
    "Intent",
    "Firing",
    "Evaluation",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class DecodedUplink(_Frozen):
    """An uplink with its decoder output (or the reason decoding failed, which is never fatal)."""

    uplink: Uplink
    app_token_alias: str | None = None
    decoder: str | None = None
    decoded: dict[str, Any] = Field(default_factory=dict)
    decode_error: str | None = None


class UplinkEvent(_Frozen):
    kind: Literal["uplink"] = "uplink"
    item: DecodedUplink

    @property
    def id(self) -> str:
        return self.item.uplink.uuid

    @property
    def time(self) -> datetime:
        return self.item.uplink.time


class ScheduleEvent(_Frozen):
    kind: Literal["schedule"] = "schedule"
    rule_id: str
    time: datetime
    app_token: str | None = None

    @property
    def id(self) -> str:
        return f"schedule:{self.rule_id}:{self.time.isoformat()}"


class SilenceEvent(_Frozen):
    kind: Literal["silence"] = "silence"
    module: str
    app_token: str | None = None
    gateway: str | None = None
    last_seen: datetime
    time: datetime

    @property
    def id(self) -> str:
        return f"silence:{self.module}:{self.last_seen.isoformat()}"


class SendEvent(_Frozen):
    kind: Literal["send"] = "send"
    send_id: str
    rule_id: str
    outcome: Literal["complete", "partial", "expired"]
    time: datetime
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"send:{self.send_id}:{self.outcome}"


Event = UplinkEvent | ScheduleEvent | SilenceEvent | SendEvent


class Intent(_Frozen):
    """What one action of a firing will do, fully computed at match time (payload bytes,
    targets), so sending later needs nothing but this record. ``key`` is its idempotency key."""

    key: str
    rule_id: str
    event_id: str
    index: int
    action: str
    params: dict[str, Any]
    summary: str
    explain: dict[str, Any] = Field(default_factory=dict)
    local: bool = False
    error: str | None = None


class Evaluation(_Frozen):
    """Why a rule did or did not fire for one event: the trace kept with each firing."""

    rule_id: str
    event_id: str
    condition: bool
    values: dict[str, Any] = Field(default_factory=dict)
    fired: bool
    reason: str


class Firing(_Frozen):
    rule_id: str
    event_id: str
    event_kind: str
    time: datetime
    evaluation: Evaluation
    intents: tuple[Intent, ...]
