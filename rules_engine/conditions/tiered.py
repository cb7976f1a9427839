"""Tiered compilation: closures at load time, generated code once a condition proves hot.

Generating a Python function for a condition makes it several times faster to evaluate, but costs
Python's own ``compile()`` (a few hundred microseconds for 25 nodes), which a rule set of
thousands of conditions pays at every load, for conditions that may never run. So the default
backend starts every condition on the closure backend, which compiles in well under 100
microseconds, and generates its code on its ``TIER_UP_AFTER``-th evaluation.

The switch costs nothing afterwards. The function handed out is created in the namespace the
generated code will use as its globals; at tier-up its ``__code__`` is replaced by the generated
function's code, so the caller's reference now *is* the generated function, with no wrapper or
indirection left. Should code generation fail (Python's nesting limits, a plugin's ``emit`` hook
raising), the condition stays on closures and the counting stops.
"""

from __future__ import annotations

import logging
from typing import Any

from rules_engine.conditions.closures import ClosureCompiler
from rules_engine.conditions.codegen import generate
from rules_engine.conditions.nodes import Node
from rules_engine.conditions.registry import Evaluator, OperatorRegistry

__all__ = ["TIER_UP_AFTER", "tiered_function"]

_log = logging.getLogger("rules_engine.conditions")

#: Evaluations on closures before a condition's code is generated. Generating costs about as much
#: as 50 to 200 evaluations on closures save, so rarely evaluated conditions never pay for it.
TIER_UP_AFTER = 100

_COUNTING = compile(
    "def _condition(data):\n"
    "    global _tier_calls\n"
    "    _tier_calls += 1\n"
    "    if _tier_calls >= _tier_threshold:\n"
    "        return _tier_up(data)\n"
    "    return _tier_closures(data)\n",
    "<tiered condition>",
    "exec",
    dont_inherit=True,
)
_SETTLED = compile(
    "def _condition(data):\n    return _tier_closures(data)\n",
    "<tiered condition>",
    "exec",
    dont_inherit=True,
)


def _code_of(module_code: Any) -> Any:
    """The code object of the one function ``module_code`` defines."""
    (function_code,) = (const for const in module_code.co_consts if hasattr(const, "co_code"))
    return function_code


_COUNTING_CODE = _code_of(_COUNTING)
_SETTLED_CODE = _code_of(_SETTLED)


def tiered_function(
    node: Node,
    registry: OperatorRegistry,
    closures: ClosureCompiler,
    *,
    threshold: int = TIER_UP_AFTER,
) -> Evaluator:
    """An evaluator of the pure ``node`` that runs on closures for its first ``threshold - 1``
    evaluations and on generated code from the ``threshold``-th on (``threshold=1``: generated
    on first use)."""
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")
    interpret = closures.compile(node)
    namespace: dict[str, Any] = {"_tier_calls": 0, "_tier_threshold": threshold, "_tier_closures": interpret}
    exec(_COUNTING, namespace)  # noqa: S102 - a fixed stub, no rule text in it
    function: Evaluator = namespace["_condition"]

    def tier_up(data: Any) -> Any:
        try:
            generated = generate(node, registry, closures, namespace=namespace, fallback=interpret)
        except Exception:  # a plugin's emit hook: the closures stay correct
            _log.warning("condition %s: code generation failed; it stays on closures", node.path, exc_info=True)
            generated = None
        namespace["_condition"] = function
        if generated is None:
            function.__code__ = _SETTLED_CODE
        else:
            function.__code__ = generated.__code__
            function.__source__ = generated.__source__  # type: ignore[attr-defined]
        return function(data)

    namespace["_tier_up"] = tier_up
    return function
