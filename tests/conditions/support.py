"""Helpers shared by the condition tests: case files and exact, type-aware value comparison."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures" / "jsonlogic"


def load_cases(name: str) -> list[tuple[str, Any, Any, Any]]:
    """``(id, rule, data, expected)`` for every case of a suite-format file; the id is the
    section heading and the position, so a failure names the case."""
    section = "top"
    cases = []
    for position, item in enumerate(json.loads((FIXTURES / name).read_text(encoding="utf-8"))):
        if isinstance(item, str):
            section = item.lstrip("# ").strip() or section
            continue
        rule, data, expected = item
        cases.append((f"{name}:{position} {section[:40]}", rule, data, expected))
    return cases


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def same_value(actual: Any, expected: Any, *, signed_zero: bool = False) -> bool:
    """Equality as JSON values, type-aware: ``True`` is not ``1``, ``1`` is ``1.0``; NaN equals
    NaN; with ``signed_zero`` ``-0.0`` differs from ``0``. Arrays are ordered; objects by keys."""
    if _number(actual) and _number(expected):
        if actual != actual or expected != expected:
            return actual != actual and expected != expected
        if signed_zero and actual == 0 and expected == 0:
            return math.copysign(1.0, actual) == math.copysign(1.0, expected)
        return actual == expected  # type: ignore[no-any-return]
    if type(actual) is not type(expected):
        return False
    if type(actual) is list:
        return len(actual) == len(expected) and all(
            same_value(a, e, signed_zero=signed_zero) for a, e in zip(actual, expected, strict=True)
        )
    if type(actual) is dict:
        return actual.keys() == expected.keys() and all(
            same_value(actual[key], expected[key], signed_zero=signed_zero) for key in actual
        )
    return actual == expected  # type: ignore[no-any-return]
