"""JsonLogic conditions: a compiler that is correct (json-logic-js semantics), fast (one Python
function per condition) and strict (every error found at load time, with its JSON path).

    >>> from rules_engine.conditions import compile_condition
    >>> hot = compile_condition({">": [{"var": "decoded.temperature"}, 30]})
    >>> hot({"decoded": {"temperature": 31.5}})
    True

Plugins add operators to an :class:`OperatorRegistry` built by :func:`standard_operators`, then
pass it as ``compile_condition(rule, operators=registry)``. :func:`lint_condition` reports the
traps the language allows (a missing field compares as 0). See ``docs/conditions.md``.
"""

from __future__ import annotations

from rules_engine.conditions.compiler import Backend, compile_condition, default_operators
from rules_engine.conditions.lint import LintWarning, lint_condition
from rules_engine.conditions.paths import split_path
from rules_engine.conditions.registry import (
    ArgumentError,
    CompileArg,
    Evaluator,
    LazyCompile,
    Operator,
    OperatorRegistry,
)
from rules_engine.conditions.standard import STANDARD_OPERATOR_NAMES, standard_operators

__all__ = [
    "compile_condition",
    "Backend",
    "default_operators",
    "standard_operators",
    "STANDARD_OPERATOR_NAMES",
    "OperatorRegistry",
    "Operator",
    "ArgumentError",
    "Evaluator",
    "CompileArg",
    "LazyCompile",
    "lint_condition",
    "LintWarning",
    "split_path",
]
