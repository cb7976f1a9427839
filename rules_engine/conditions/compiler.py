"""``compile_condition``: a JsonLogic tree, validated and compiled once, into a Python callable.

The pipeline: :func:`~rules_engine.conditions.nodes.parse` validates the whole tree (raising
:class:`~rules_engine.errors.ConditionError` with the JSON path of the bad node), constant
subtrees are evaluated once (:func:`~rules_engine.conditions.closures.fold`), then a backend
turns the tree into a function ``data -> value``:

* ``"codegen"`` (default): one generated Python function per condition, fastest to evaluate
  (:mod:`rules_engine.conditions.codegen`); compiling costs a few hundred microseconds the first
  time a condition of a given shape is seen (Python's own ``compile``), far less afterwards.
  Conditions with side effects (``log``, impure plugin operators) run as closures regardless.
* ``"closures"``: nested closures; several times cheaper to compile than a condition of a new
  shape, and 5 to 15 times slower to evaluate. Both give identical results (the closure backend
  is also where generated code sends an input its fast paths do not cover).
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from rules_engine.conditions.closures import ClosureCompiler, constant, fold
from rules_engine.conditions.codegen import compile_to_function
from rules_engine.conditions.nodes import Literal as LiteralNode
from rules_engine.conditions.nodes import parse
from rules_engine.conditions.registry import Evaluator, OperatorRegistry
from rules_engine.conditions.standard import standard_operators

__all__ = ["compile_condition", "default_operators", "Backend"]

Backend = Literal["codegen", "closures"]


@functools.cache
def default_operators() -> OperatorRegistry:
    """The registry of standard operators used when none is given. It is frozen: nothing can be
    registered into it (an engine with plugins builds its own with ``standard_operators()``)."""
    return standard_operators().freeze()


def compile_condition(
    rule: Any,
    operators: OperatorRegistry | None = None,
    *,
    backend: Backend = "codegen",
) -> Evaluator:
    """Validate ``rule`` (a JSON-like JsonLogic tree) and return ``evaluate(data) -> value``.

    ``evaluate(data)`` returns what json-logic-js's ``apply(rule, data)`` returns, as a Python
    value (null is ``None``; numbers are ``int`` or ``float``; NaN and Infinity are floats).

    Raises :class:`~rules_engine.errors.ConditionError` (with ``.path``) for an unknown operator,
    a wrong argument count or a malformed argument anywhere in the tree, and
    :class:`~rules_engine.errors.PluginError` when a plugin operator fails to compile.
    """
    if backend not in ("codegen", "closures"):
        raise ValueError(f"unknown backend {backend!r}; use 'codegen' or 'closures'")
    registry = default_operators() if operators is None else operators
    node = fold(parse(rule, registry))
    if isinstance(node, LiteralNode):
        return constant(node.value)
    closures = ClosureCompiler()
    if backend == "closures" or not node.pure:
        # Generated code may evaluate an input twice (fast path, then closures): a condition with
        # side effects (log, an impure plugin operator) always runs as closures.
        return closures.compile(node)
    return compile_to_function(node, registry, closures)
