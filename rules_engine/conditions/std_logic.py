"""Standard operators: ``if``, ``?:``, ``and``, ``or``, ``!``, ``!!``.

``if``/``?:``, ``and`` and ``or`` are lazy: they short-circuit, and ``and``/``or`` return an
operand (the first falsy / truthy one, else the last), not a boolean. Truthiness is JsonLogic's:
``[]``, ``0``, ``""``, ``null``, ``false`` and NaN are falsy; ``"0"`` and ``{}`` are truthy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rules_engine.conditions.codegen import Code, CodeGen, Kind
from rules_engine.conditions.jsvalues import truthy
from rules_engine.conditions.nodes import OpNode
from rules_engine.conditions.registry import CompileArg, Evaluator, OperatorRegistry

__all__ = ["register"]

_SAFE = Kind.BOOL | Kind.STR | Kind.LIST | Kind.NULL


# -- closures ------------------------------------------------------------------------------------


def _compile_if(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
    parts = [compile_arg(i) for i in range(len(raw))]
    if not parts:
        return lambda data: None
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 3:
        test, then, otherwise = parts
        return lambda data: then(data) if truthy(test(data)) else otherwise(data)
    pairs = [(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
    otherwise_or_none = parts[-1] if len(parts) % 2 else None

    def evaluate(data: Any) -> Any:
        for test, then in pairs:
            if truthy(test(data)):
                return then(data)
        return None if otherwise_or_none is None else otherwise_or_none(data)

    return evaluate


def _compile_and(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
    operands = [compile_arg(i) for i in range(len(raw))]
    if len(operands) == 1:
        return operands[0]

    def evaluate(data: Any) -> Any:
        value = None
        for operand in operands:
            value = operand(data)
            if not truthy(value):
                return value
        return value

    return evaluate


def _compile_or(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
    operands = [compile_arg(i) for i in range(len(raw))]
    if len(operands) == 1:
        return operands[0]

    def evaluate(data: Any) -> Any:
        value = None
        for operand in operands:
            value = operand(data)
            if truthy(value):
                return value
        return value

    return evaluate


def _not(value: Any) -> bool:
    return not truthy(value)


# -- code generation -----------------------------------------------------------------------------


def _emit_if(gen: CodeGen, node: OpNode) -> Code:
    args = node.args
    if not args:
        return Code("None", Kind.NULL, simple=True)
    if len(args) == 1:
        return gen.emit(args[0])
    tail = gen.emit(args[-1]) if len(args) % 2 else Code("None", Kind.NULL, simple=True)
    expr, kind, truth = tail.expr, tail.kind, gen.truth(tail)
    for i in reversed(range(0, len(args) - 1, 2)):
        test = gen.truth(gen.emit(args[i]))
        then = gen.emit(args[i + 1])
        expr = f"({then.expr} if {test} else {expr})"
        truth = f"({gen.truth(then)} if {test} else {truth})"
        kind |= then.kind
    return Code(expr, kind, truth=truth)


def _emit_junction(gen: CodeGen, node: OpNode, conjunction: bool) -> Code:
    codes = [gen.emit(arg) for arg in node.args]
    if len(codes) == 1:
        return codes[0]
    joiner = " and " if conjunction else " or "
    truth = "(" + joiner.join(gen.truth(code) for code in codes) + ")"
    expr, kind = codes[-1].expr, codes[-1].kind
    for code in reversed(codes[:-1]):
        kind |= code.kind
        if not code.kind & ~_SAFE:
            expr = f"({code.expr}{joiner}{expr})"  # Python returns the same operand JS would
        else:
            first, again = gen.bind(code)
            test = f"not {gen.truth(Code(first))}" if conjunction else gen.truth(Code(first))
            expr = f"({again} if {test} else {expr})"
    return Code(expr, kind, truth=truth)


def _emit_and(gen: CodeGen, node: OpNode) -> Code:
    return _emit_junction(gen, node, conjunction=True)


def _emit_or(gen: CodeGen, node: OpNode) -> Code:
    return _emit_junction(gen, node, conjunction=False)


def _emit_not(gen: CodeGen, node: OpNode) -> Code:
    expr = f"(not {gen.truth(gen.emit(node.args[0]))})"
    return Code(expr, Kind.BOOL)


def _emit_not_not(gen: CodeGen, node: OpNode) -> Code:
    return Code(gen.boolean(gen.emit(node.args[0])), Kind.BOOL)


def register(registry: OperatorRegistry) -> None:
    """Register ``if``, ``?:``, ``and``, ``or``, ``!`` and ``!!``."""
    registry.register_lazy("if", _compile_if, emit=_emit_if)
    registry.register_lazy("?:", _compile_if, min_args=3, max_args=3, emit=_emit_if)
    registry.register_lazy("and", _compile_and, min_args=1, emit=_emit_and)
    registry.register_lazy("or", _compile_or, min_args=1, emit=_emit_or)
    registry.register_value("!", _not, min_args=1, max_args=1, emit=_emit_not)
    registry.register_value("!!", truthy, min_args=1, max_args=1, emit=_emit_not_not)
