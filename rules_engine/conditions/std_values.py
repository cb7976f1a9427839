"""Standard value operators: arithmetic (``+ - * / %``, ``max``, ``min``), strings (``cat``,
``substr``) and ``log``.

``+`` and ``*`` convert with ``parseFloat`` (``"1.5" + 2`` is 3.5, ``null`` is NaN); ``-``, ``/``,
``%``, ``max`` and ``min`` with ToNumber (``null`` is 0). ``{"-": [x]}`` is negation and
``{"*": [x]}`` returns ``x`` unchanged, as in json-logic-js. ``%`` keeps the sign of the dividend.
``cat`` renders numbers as JavaScript does (``21.0`` as ``"21"``) and ``null`` as ``""``.

``log`` returns its argument and writes it to the ``rules_engine.conditions`` logger at INFO
(json-logic-js prints to the console; a daemon must not write to stdout).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rules_engine.conditions.jsarith import js_add, js_div, js_max, js_min, js_mod, js_mul, js_neg, js_sub
from rules_engine.conditions.jsvalues import js_cat, js_substr
from rules_engine.conditions.registry import OperatorRegistry

__all__ = ["register", "LOGGER_NAME"]

LOGGER_NAME = "rules_engine.conditions"
_log = logging.getLogger(LOGGER_NAME)


def _minus(left: Any, *right: Any) -> int | float:
    return js_sub(left, right[0]) if right else js_neg(left)


def _log_value(value: Any) -> Any:
    if _log.isEnabledFor(logging.INFO):
        try:
            text = json.dumps(value, ensure_ascii=False, default=repr)
        except ValueError:  # pragma: no cover - circular data
            text = repr(value)
        _log.info("jsonlogic log: %s", text)
    return value


def register(registry: OperatorRegistry) -> None:
    """Register the arithmetic and string operators and ``log``."""
    registry.register_value("+", js_add, min_args=1)
    registry.register_value("-", _minus, min_args=1, max_args=2)
    registry.register_value("*", js_mul, min_args=1)
    registry.register_value("/", js_div, min_args=2, max_args=2)
    registry.register_value("%", js_mod, min_args=2, max_args=2)
    registry.register_value("max", js_max, min_args=1)
    registry.register_value("min", js_min, min_args=1)
    registry.register_value("cat", js_cat, min_args=1)
    registry.register_value("substr", js_substr, min_args=2, max_args=3)
    registry.register_value("log", _log_value, min_args=1, max_args=1, pure=False)
