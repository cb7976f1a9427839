"""The standard JsonLogic operators, registered like any plugin's."""

from __future__ import annotations

from rules_engine.conditions import std_arrays, std_compare, std_data, std_logic, std_values
from rules_engine.conditions.registry import OperatorRegistry

__all__ = ["standard_operators", "STANDARD_OPERATOR_NAMES"]

#: Every operator json-logic-js defines (and the official test suite covers).
STANDARD_OPERATOR_NAMES = (
    "var missing missing_some if ?: == === != !== ! !! or and > >= < <= max min + - * / % "
    "map filter reduce all none some merge in cat substr log"
).split()


def standard_operators() -> OperatorRegistry:
    """A new, independent registry holding the standard operators; plugins register into it."""
    registry = OperatorRegistry()
    for module in (std_data, std_logic, std_compare, std_values, std_arrays):
        module.register(registry)
    return registry
