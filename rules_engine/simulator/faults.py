"""Faults on demand: a pydantic model settable at runtime, and the seeded decisions it drives.

Which endpoints each fault touches (never ``/_sim/``):

============================  =================================================================
fault                         applies to
============================  =================================================================
``error_rate``/``error_next``  every request under ``paths`` (default: /clientEdge, /networkAsset, /access)
``latency_s``                  every request under ``paths``
``timeout_rate``               every request under ``paths``: held ``timeout_hold_s``, then 504
``rate_limit_rate``            every request under ``paths``: 429 + ``Retry-After``
``malformed_rate``             uplink pages only (``/events`` and ``mostRecentEvents``)
``lost_response_rate``         ``POST /clientEdge/issueCommand``: the command IS issued, the answer is 504
``late_ingest_*``              uplinks generated while set: visible ``late_ingest_s`` after their time
``clock_skew_s``               the server clock: timestamps, issuance times, future-stop check, queryTime
============================  =================================================================
"""

from __future__ import annotations

import random
import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Faults", "FaultInjector", "RequestFault", "MalformedKind"]

MalformedKind = Literal["invalid_json", "missing_results", "missing_uuid"]


class Faults(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    #: Probability of answering ``error_status`` instead of serving the request.
    error_rate: float = Field(default=0.0, ge=0, le=1)
    #: The next N matching requests fail with ``error_status`` (decremented as they do).
    error_next: int = Field(default=0, ge=0)
    error_status: int = Field(default=503, ge=500, le=599)
    #: Added to every matching request (real seconds).
    latency_s: float = Field(default=0.0, ge=0)
    #: Probability that the server holds the request ``timeout_hold_s`` (real seconds), then 504.
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    timeout_hold_s: float = Field(default=30.0, ge=0)
    #: Probability of 429 Too Many Requests with ``Retry-After: retry_after_s``.
    rate_limit_rate: float = Field(default=0.0, ge=0, le=1)
    retry_after_s: int = Field(default=1, ge=0)
    #: Probability that an uplink page is malformed, in one of ``malformed_kinds``.
    malformed_rate: float = Field(default=0.0, ge=0, le=1)
    malformed_kinds: list[MalformedKind] = Field(
        default_factory=lambda: ["invalid_json", "missing_results", "missing_uuid"], min_length=1
    )
    #: Probability that issueCommand issues the command but answers 504 (the client is left in doubt).
    lost_response_rate: float = Field(default=0.0, ge=0, le=1)
    #: Probability that a newly generated uplink is written ``late_ingest_s`` after its time.
    late_ingest_rate: float = Field(default=0.0, ge=0, le=1)
    late_ingest_s: float = Field(default=30.0, ge=0)
    #: Server clock offset from the simulator's clock, seconds (positive: server ahead).
    clock_skew_s: float = 0.0
    #: Path prefixes the request faults apply to.
    paths: list[str] = Field(default_factory=lambda: ["/clientEdge", "/networkAsset", "/access"])


class RequestFault(BaseModel):
    """What to do to one request, decided up front."""

    latency_s: float = 0.0
    hold_s: float | None = None
    status: int | None = None
    retry_after_s: int | None = None


class FaultInjector:
    """Seeded decisions; thread-safe (requests come from the server thread, tests from theirs)."""

    def __init__(self, seed: int, faults: Faults | None = None) -> None:
        self._rng = random.Random(f"faults-{seed}")
        self._lock = threading.Lock()
        self.faults = faults or Faults()

    def applies(self, path: str) -> bool:
        if path.startswith("/_sim"):
            return False
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.faults.paths)

    def for_request(self, path: str) -> RequestFault:
        faults = self.faults
        if not self.applies(path):
            return RequestFault()
        with self._lock:
            decision = RequestFault(latency_s=faults.latency_s)
            if faults.error_next > 0:
                faults.error_next -= 1
                decision.status = faults.error_status
            elif faults.timeout_rate and self._rng.random() < faults.timeout_rate:
                decision.hold_s = faults.timeout_hold_s
                decision.status = 504
            elif faults.rate_limit_rate and self._rng.random() < faults.rate_limit_rate:
                decision.status = 429
                decision.retry_after_s = faults.retry_after_s
            elif faults.error_rate and self._rng.random() < faults.error_rate:
                decision.status = faults.error_status
            return decision

    def malformed(self) -> MalformedKind | None:
        faults = self.faults
        if not faults.malformed_rate:
            return None
        with self._lock:
            if self._rng.random() < faults.malformed_rate:
                return self._rng.choice(faults.malformed_kinds)
        return None

    def lost_response(self) -> bool:
        faults = self.faults
        if not faults.lost_response_rate:
            return False
        with self._lock:
            return self._rng.random() < faults.lost_response_rate
