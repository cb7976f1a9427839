"""Example local plugin: geographic operators for conditions.

    condition:
      ">": [{distance_km: [{var: decoded.latitude}, {var: decoded.longitude}, 52.52, 13.405]}, 5]

``distance_km`` is a value operator (its four arguments are evaluated first); ``inside_box``
shows a lazy operator, which compiles its own arguments and short-circuits: it reads the
latitude first and never evaluates the longitude when the latitude is already outside.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from rules_engine import hookimpl
from rules_engine.conditions import ArgumentError, CompileArg, Evaluator, Operator

EARTH_RADIUS_KM = 6371.0088


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def distance_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> float | None:
    """Great-circle distance; ``null`` when any coordinate is missing or not a number."""
    points = [_number(v) for v in (lat1, lon1, lat2, lon2)]
    if any(p is None for p in points):
        return None
    a1, o1, a2, o2 = (math.radians(p) for p in points)  # type: ignore[arg-type]
    h = math.sin((a2 - a1) / 2) ** 2 + math.cos(a1) * math.cos(a2) * math.sin((o2 - o1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _check_box(raw: Sequence[Any]) -> None:
    for index in range(2, 6):
        if _number(raw[index]) is None:
            raise ArgumentError("the box corners must be constant numbers: [lat, lon, south, west, north, east]", index)


def _compile_inside_box(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
    latitude, longitude = compile_arg(0), compile_arg(1)
    south, west, north, east = (float(raw[i]) for i in range(2, 6))

    def inside(data: Any) -> bool:
        lat = _number(latitude(data))
        if lat is None or not south <= lat <= north:
            return False
        lon = _number(longitude(data))
        return lon is not None and west <= lon <= east

    return inside


@hookimpl
def register_operators() -> list[Operator]:
    return [
        Operator("distance_km", 4, 4, func=distance_km),
        Operator("inside_box", 6, 6, compile=_compile_inside_box, check=_check_box),
    ]
