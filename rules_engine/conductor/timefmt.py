"""Conductor's time format: ``YYYY-MM-DDTHH:MM:SS.mmm``, UTC wall-clock, no zone suffix."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["format_time", "parse_time"]


def format_time(value: datetime) -> str:
    """Format an aware (or UTC-naive) datetime as Conductor expects, milliseconds truncated."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def parse_time(text: str) -> datetime:
    """Parse a Conductor time leniently into an aware UTC datetime.

    Accepts ``2018-05-01T21:54:46.290``, ``2018-05-03T00:00:00``, ``2018-05-05T14:17:03Z`` and
    offsets; zone-less values are UTC. Raises ``ValueError`` for anything else.
    """
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    # fromisoformat in 3.11 accepts any number of fractional digits up to 6; trim longer ones.
    if "." in raw:
        head, _, tail = raw.partition(".")
        digits = ""
        rest = ""
        for index, char in enumerate(tail):
            if not char.isdigit():
                rest = tail[index:]
                break
            digits += char
        raw = f"{head}.{digits[:6].ljust(3, '0')}{rest}" if digits else head + rest
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
