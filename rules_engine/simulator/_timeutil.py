"""Integer epoch milliseconds <-> datetimes and Conductor time strings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rules_engine.clock import utc
from rules_engine.conductor.timefmt import format_time, parse_time

__all__ = ["to_ms", "from_ms", "fmt_ms", "fmt_query_time", "parse_ms"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_ms(value: datetime) -> int:
    value = utc(value)
    return int(value.timestamp()) * 1000 + value.microsecond // 1000


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def fmt_ms(ms: int) -> str:
    """``2024-03-11T14:02:17.512`` (zone-less UTC, milliseconds)."""
    return format_time(from_ms(ms))


def fmt_query_time(ms: int) -> str:
    """``queryTime`` style: seconds and a ``Z`` (``2018-05-05T14:17:03Z``)."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ms(text: str) -> int:
    return to_ms(parse_time(text))
