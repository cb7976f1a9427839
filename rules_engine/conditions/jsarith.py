"""JavaScript arithmetic as json-logic-js uses it: ``+`` and ``*`` through ``parseFloat``, the
others through ToNumber; ``-0``, NaN and Infinity where JavaScript produces them.

Integer operands stay Python integers while the result is exact in a double (|x| <= 2**53), so
``{"+": [1, 2]}`` is ``3``; beyond that the result is the double JavaScript computes.
"""

from __future__ import annotations

import math
from typing import Any

from rules_engine.conditions.jsnumbers import EXACT_INT, INF, NAN, int_to_float, is_negative_zero
from rules_engine.conditions.jsvalues import parse_float, to_number

__all__ = ["js_add", "js_sub", "js_neg", "js_mul", "js_div", "js_mod", "js_max", "js_min"]


def _add_numbers(a: int | float, b: int | float) -> int | float:
    if type(a) is int and type(b) is int:
        total = a + b
        return total if -EXACT_INT <= total <= EXACT_INT else int_to_float(a) + int_to_float(b)
    return a + b


def js_add(*values: Any) -> int | float:
    """json-logic-js ``+``: ``parseFloat`` of every argument, summed from 0."""
    total: int | float = 0
    for value in values:
        total = _add_numbers(parse_float(total), parse_float(value))
    return total


def js_sub(left: Any, right: Any) -> int | float:
    """JavaScript binary ``left - right`` (ToNumber on both sides)."""
    a, b = to_number(left), to_number(right)
    if type(a) is int and type(b) is int:
        diff = a - b
        return diff if -EXACT_INT <= diff <= EXACT_INT else int_to_float(a) - int_to_float(b)
    return a - b


def js_neg(value: Any) -> int | float:
    """JavaScript unary ``-value`` (``-0`` for 0)."""
    number = to_number(value)
    if type(number) is int:
        return -number if number else -0.0
    return -number


def _multiply(a: int | float, b: int | float) -> int | float:
    if type(a) is int and type(b) is int:
        product = a * b
        if product == 0:
            return -0.0 if (a < 0) != (b < 0) else 0
        if -EXACT_INT <= product <= EXACT_INT:
            return product
        return int_to_float(a) * int_to_float(b)
    return a * b


def js_mul(*values: Any) -> Any:
    """json-logic-js ``*``: a reduce without initial value, so one argument is returned as is."""
    result = values[0]
    for value in values[1:]:
        result = _multiply(parse_float(result), parse_float(value))
    return result


def js_div(left: Any, right: Any) -> float:
    """JavaScript ``left / right``: division by zero gives +/-Infinity or NaN."""
    a, b = to_number(left), to_number(right)
    if b == 0:
        if a == 0 or a != a:
            return NAN
        negative = (a < 0) != (math.copysign(1.0, b) < 0)
        return -INF if negative else INF
    try:
        return a / b
    except OverflowError:  # int / int beyond the float range: divide the doubles, as JS does
        return _double(a) / _double(b)


def _double(number: int | float) -> float:
    return int_to_float(number) if type(number) is int else float(number)


def js_mod(left: Any, right: Any) -> int | float:
    """JavaScript ``left % right``: the remainder takes the sign of the dividend."""
    a, b = to_number(left), to_number(right)
    if type(a) is int and type(b) is int:
        if b == 0:
            return NAN
        remainder = abs(a) % abs(b)
        if a < 0:
            return -remainder if remainder else -0.0
        return remainder
    if b == 0 or a != a or b != b or a in (INF, -INF):
        return NAN
    if b in (INF, -INF) or a == 0:
        return a
    return math.fmod(a, b)


def js_max(*values: Any) -> int | float:
    """``Math.max``: NaN if any argument is NaN; +0 is greater than -0."""
    numbers = [to_number(value) for value in values]
    if not numbers:
        return -INF
    if any(number != number for number in numbers):
        return NAN
    best = max(numbers)
    if best == 0:
        return next((n for n in numbers if n == 0 and not is_negative_zero(n)), best)
    return best


def js_min(*values: Any) -> int | float:
    """``Math.min``: NaN if any argument is NaN; -0 is less than +0."""
    numbers = [to_number(value) for value in values]
    if not numbers:
        return INF
    if any(number != number for number in numbers):
        return NAN
    best = min(numbers)
    if best == 0:
        return next((n for n in numbers if is_negative_zero(n)), best)
    return best
