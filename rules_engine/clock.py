"""Injectable clocks, so nothing in the engine or the simulator reads the wall clock directly.

Tests use :class:`ManualClock` and advance it explicitly; they never sleep.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "ManualClock", "utc"]


def utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, an aware UTC datetime."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to. ``sleep`` advances it instead of waiting.

    Thread-safe, so a simulator served from another thread can share it with a test.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = utc(start) if start else datetime(2026, 1, 1, tzinfo=timezone.utc)
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        step = timedelta(seconds=seconds, **delta)
        with self._lock:
            self._now += step
            return self._now

    def set(self, value: datetime) -> None:
        with self._lock:
            self._now = utc(value)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    def monotonic(self) -> float:
        return self.now().timestamp()
