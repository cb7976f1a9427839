"""Durations as users write them: ``30s``, ``10m``, ``1h30m``, ``2d``, ``250ms`` or plain seconds."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["parse_duration", "Duration", "format_duration"]

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
# Longer ones (infinity among them) overflow a timedelta, or a datetime once added to today.
_LONGEST = 1000 * 365.25 * 86400
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: Any) -> timedelta:
    """Parse ``value`` (a number of seconds, a timedelta, or text like ``1h30m``).

    Raises ``ValueError`` with the accepted forms when it cannot.
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s, 10m, 1h30m or a number of seconds, got {value!r}")
    elif isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "").lower()
        if text.startswith("-"):
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        else:
            position, seconds = 0, 0.0
            for match in _PART.finditer(text):
                if match.start() != position:
                    break
                seconds += float(match.group(1)) * _UNITS[match.group(2)]
                position = match.end()
            if position != len(text) or not text:
                raise ValueError(
                    f"expected a duration such as 30s, 10m, 1h30m, 2d or a number of seconds, got {value!r}"
                )
    else:
        raise ValueError(f"expected a duration such as 30s, 10m, 1h30m or a number of seconds, got {value!r}")
    if seconds != seconds:
        raise ValueError(f"a duration must be a number of seconds, got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    if seconds > _LONGEST:
        raise ValueError(f"a duration cannot be longer than 1000 years ({int(_LONGEST // 604800)}w), got {value!r}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest readable form: ``90s`` -> ``1m30s``."""
    remaining = value.total_seconds()
    if remaining == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{int(count)}{unit}")
    if remaining:
        parts.append(f"{remaining:g}s")
    return "".join(parts)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
