"""The ``ack:`` option of multicast and unicast actions."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..durations import Duration

__all__ = ["AckSpec", "RetrySpec", "DEFAULT_ACK_CONDITION", "SEQ_MODULUS", "seq_hex"]

#: Sequence numbers are 32-bit (``u32_be`` in payloads) and wrap.
SEQ_MODULUS = 2**32

#: The documented default convention, which the simulator's devices follow: the ack is an uplink
#: on port 7 whose payload is ``AC`` followed by the first four bytes of the downlink, and the
#: downlink starts with the send's sequence number as ``u32_be``.
DEFAULT_ACK_CONDITION: dict[str, Any] = {
    "and": [
        {"==": [{"var": "uplink.port"}, 7]},
        {"==": [{"substr": [{"var": "uplink.payload_hex"}, 0, 10]}, {"cat": ["AC", {"var": "send.seq_hex"}]}]},
    ]
}


def seq_hex(seq: int) -> str:
    return f"{seq % SEQ_MODULUS:08X}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetrySpec(_Strict):
    """What to do at the deadline about the devices that stayed silent."""

    rounds: int = Field(default=2, ge=0, le=20)
    multicast_above: float = Field(default=0.5, ge=0, le=1)
    gateway_rate: str = "30/min"
    deadline: Duration | None = None

    @field_validator("gateway_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        if not re.fullmatch(r"\s*\d+\s*/\s*(s|sec|min|h|hour)\s*", value):
            raise ValueError(f"gateway_rate is a count per unit, e.g. '30/min' or '2/s', got {value!r}")
        return value.replace(" ", "")

    @property
    def gateway_interval(self) -> float:
        """Seconds between two retry downlinks through one gateway."""
        count, unit = self.gateway_rate.split("/")
        seconds = {"s": 1, "sec": 1, "min": 60, "h": 3600, "hour": 3600}[unit]
        return seconds / max(1, int(count))


class AckSpec(_Strict):
    """Track a send: who must confirm it, how a confirmation looks, and how hard to try."""

    expect: Literal["seen", "group", "modules", "target"] = "seen"
    group: str | None = None
    modules: list[str] | None = None
    seen_within: Duration = timedelta(hours=1)
    condition: Any = None
    deadline: Duration = timedelta(minutes=2)
    retry: RetrySpec = Field(default_factory=RetrySpec)

    @model_validator(mode="after")
    def _consistent(self) -> AckSpec:
        if self.expect == "group" and not self.group:
            raise ValueError("expect: group needs 'group' (a name from the engine config's groups)")
        if self.expect == "modules" and not self.modules:
            raise ValueError("expect: modules needs 'modules' (a list of module addresses)")
        if self.deadline.total_seconds() < 1:
            raise ValueError("deadline must be at least 1s")
        return self

    @property
    def ack_condition(self) -> Any:
        return self.condition if self.condition is not None else DEFAULT_ACK_CONDITION
