"""Fixtures of the codec tests: a field type registry and a minimal ``var``-only expression compiler."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from rules_engine.codec import FieldTypeRegistry, default_field_types


def var_compiler(expr: Any) -> Callable[[Mapping[str, Any]], Any]:
    """A stand-in for ``rules_engine.conditions.compile_condition``: ``{"var": "a.b"}`` and constants."""
    if isinstance(expr, dict):
        if set(expr) != {"var"} or not isinstance(expr["var"], str):
            raise ValueError(f"the test compiler only knows var, got {expr!r}")
        path = [part for part in expr["var"].split(".") if part]

        def lookup(data: Mapping[str, Any]) -> Any:
            value: Any = data
            for part in path:
                if not isinstance(value, Mapping) or part not in value:
                    return None
                value = value[part]
            return value

        return lookup
    if isinstance(expr, list):
        raise ValueError("the test compiler does not take lists")
    return lambda _data: expr


@pytest.fixture
def field_types() -> FieldTypeRegistry:
    return default_field_types()


@pytest.fixture
def compile_expr() -> Callable[[Any], Callable[[Mapping[str, Any]], Any]]:
    return var_compiler
