"""Standard operators: ``==``, ``!=``, ``===``, ``!==``, ``<``, ``<=``, ``>``, ``>=``.

``==`` is JavaScript loose equality (``1 == "1"``, ``1 == true``, ``null == null`` only);
``===`` is strict (arrays and objects by identity). Relational operators compare two strings by
UTF-16 code units and anything else as numbers after ToNumber, so ``null`` (a missing field)
compares as 0 and anything against NaN is false. ``<`` and ``<=`` take a third argument:
``{"<": [a, b, c]}`` is ``a < b && b < c``.

The generated fast paths use Python's own operators only where they agree with JavaScript: both
sides numbers, both sides the same primitive type, or a comparison with ``null``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rules_engine.conditions.codegen import NUMBER_TYPES, PRIMITIVE_TYPES, Code, CodeGen, Kind
from rules_engine.conditions.jsvalues import js_ge, js_gt, js_le, js_lt, loose_eq, strict_eq, to_number
from rules_engine.conditions.nodes import Literal, Node, OpNode
from rules_engine.conditions.registry import OperatorRegistry

__all__ = ["register"]


def _not_loose_eq(left: Any, right: Any) -> bool:
    return not loose_eq(left, right)


def _not_strict_eq(left: Any, right: Any) -> bool:
    return not strict_eq(left, right)


def _less(left: Any, middle: Any, *right: Any) -> bool:
    if not right:
        return js_lt(left, middle)
    return js_lt(left, middle) and js_lt(middle, right[0])


def _less_equal(left: Any, middle: Any, *right: Any) -> bool:
    if not right:
        return js_le(left, middle)
    return js_le(left, middle) and js_le(middle, right[0])


# -- code generation -----------------------------------------------------------------------------
#
# Generated code is optimistic (see rules_engine.conditions.codegen): Python's own comparison of a
# value with a number is exact for int, float and bool and raises TypeError for str, list and dict,
# which sends the input to the closure backend; null is handled inline with the result JavaScript
# gives for it, computed now. Where Python would answer differently from JavaScript without
# raising (== between a number and a string; ordering two strings or two arrays) the code checks
# types first.


def _number(node: Node) -> bool:
    if not isinstance(node, Literal):
        return False
    value = node.value
    return (type(value) is int or type(value) is float) and value == value


def _relational(symbol: str, slow: Callable[..., bool]) -> Callable[[CodeGen, OpNode], Code]:
    def emit(gen: CodeGen, node: OpNode) -> Code:
        args = node.args
        if len(args) == 3:
            return _between(gen, node, symbol, slow)
        left, right = args
        if _number(right) or _number(left):
            dynamic_left = not _number(left)
            value = gen.emit(left if dynamic_left else right)
            constant_node = right if dynamic_left else left
            constant = gen.emit(constant_node).expr
            if value.kind == Kind.NUM:
                pair = (value.expr, constant) if dynamic_left else (constant, value.expr)
                return Code(f"({pair[0]} {symbol} {pair[1]})", Kind.BOOL)
            c = constant_node.value  # type: ignore[attr-defined]
            on_null = slow(None, c) if dynamic_left else slow(c, None)
            first, again = gen.bind(value)
            fast = f"{again} {symbol} {constant}" if dynamic_left else f"{constant} {symbol} {again}"
            return Code(f"({on_null!r} if {first} is None else {fast})", Kind.BOOL)
        num = gen.ref(NUMBER_TYPES)
        first_a, a = gen.bind(gen.emit(left))
        first_b, b = gen.bind(gen.emit(right))
        test = f"((type({first_a}) in {num}) & (type({first_b}) in {num}))"
        return Code(f"({a} {symbol} {b} if {test} else {gen.ref(slow)}({a}, {b}))", Kind.BOOL)

    return emit


def _between(gen: CodeGen, node: OpNode, symbol: str, slow: Callable[..., bool]) -> Code:
    low, middle, high = node.args
    if not (_number(low) and _number(high)):
        args = ", ".join(gen.emit(arg).expr for arg in node.args)
        return Code(f"{gen.ref(slow)}({args})", Kind.BOOL)
    lo, hi = gen.emit(low).expr, gen.emit(high).expr
    value = gen.emit(middle)
    if value.kind == Kind.NUM:
        return Code(f"({lo} {symbol} {value.expr} {symbol} {hi})", Kind.BOOL)
    on_null = slow(low.value, None, high.value)  # type: ignore[attr-defined]
    first, again = gen.bind(value)
    return Code(f"({on_null!r} if {first} is None else {lo} {symbol} {again} {symbol} {hi})", Kind.BOOL)


def _equality(strict: bool, negate: bool) -> Callable[[CodeGen, OpNode], Code]:
    slow: Callable[[Any, Any], bool] = strict_eq if strict else loose_eq

    def emit(gen: CodeGen, node: OpNode) -> Code:
        left, right = node.args
        constant_node = right if isinstance(right, Literal) else left if isinstance(left, Literal) else None
        if constant_node is None or (isinstance(left, Literal) and isinstance(right, Literal)):
            return _equality_dynamic(gen, left, right, slow, negate)
        value = gen.emit(left if constant_node is right else right)
        code = _equal_to_constant(gen, value, constant_node.value, strict)
        if code is None:
            return _equality_dynamic(gen, left, right, slow, negate)
        return Code(f"(not {code})" if negate else code, Kind.BOOL)

    return emit


def _equal_to_constant(gen: CodeGen, value: Code, constant: Any, strict: bool) -> str | None:
    """An expression for ``value == constant`` (``===`` when strict), or None for no fast path."""
    cls = type(constant)
    if constant is None:
        return f"({value.expr} is None)"  # only null == null (undefined never occurs)
    if cls is bool:
        return f"({value.expr} is {constant!r})" if strict else None
    name = gen.ref(constant)
    if cls is str:
        if strict or value.kind == Kind.STR:
            return f"({value.expr} == {name})"  # only a str equals a str
        # Python's == is false where JavaScript converts: a number or boolean against a numeric
        # string, an array against its joined text. Check those only when Python says "no".
        if to_number(constant) != to_number(constant) and constant != "[object Object]":
            convertible = gen.ref(frozenset({list}))
        else:
            convertible = gen.ref(frozenset({int, float, bool, list, dict}))
        first, again = gen.bind(value)
        return f"({first} == {name} or type({again}) in {convertible} and {gen.ref(loose_eq)}({again}, {name}))"
    if (cls is int or cls is float) and constant == constant:
        if value.kind == Kind.NUM:
            return f"({value.expr} == {name})"
        first, again = gen.bind(value)
        if strict:
            if constant in (0, 1):  # Python's True == 1 and False == 0
                return f"({first} == {name} and type({again}) is not bool)"
            return f"({first} == {name})"
        # int, float, bool, null and objects compare in Python as in JavaScript; a numeric string
        # or an array may still be loosely equal when Python says "no".
        convertible = gen.ref(frozenset({str, list}))
        return f"({first} == {name} or type({again}) in {convertible} and {gen.ref(loose_eq)}({again}, {name}))"
    return None


def _equality_dynamic(
    gen: CodeGen, left: Node, right: Node, slow: Callable[[Any, Any], bool], negate: bool
) -> Code:
    first_a, a = gen.bind(gen.emit(left))
    first_b, b = gen.bind(gen.emit(right))
    test = f"type({first_a}) is type({first_b}) and type({a}) in {gen.ref(PRIMITIVE_TYPES)}"
    py, not_ = ("!=", "not ") if negate else ("==", "")
    return Code(f"({a} {py} {b} if {test} else {not_}{gen.ref(slow)}({a}, {b}))", Kind.BOOL)


def register(registry: OperatorRegistry) -> None:
    """Register the equality and relational operators."""
    registry.register_value("==", loose_eq, min_args=2, max_args=2, emit=_equality(False, False))
    registry.register_value("===", strict_eq, min_args=2, max_args=2, emit=_equality(True, False))
    registry.register_value("!=", _not_loose_eq, min_args=2, max_args=2, emit=_equality(False, True))
    registry.register_value("!==", _not_strict_eq, min_args=2, max_args=2, emit=_equality(True, True))
    registry.register_value(">", js_gt, min_args=2, max_args=2, emit=_relational(">", js_gt))
    registry.register_value(">=", js_ge, min_args=2, max_args=2, emit=_relational(">=", js_ge))
    registry.register_value("<", _less, min_args=2, max_args=3, emit=_relational("<", _less))
    registry.register_value("<=", _less_equal, min_args=2, max_args=3, emit=_relational("<=", _less_equal))
