"""Standard array operators: ``map``, ``filter``, ``reduce``, ``all``, ``none``, ``some``,
``merge``, ``in``.

The scoped operators evaluate their second argument once per element, with the element as the
data (``{"var": ""}`` is the element, ``{"var": "value"}`` its field); ``reduce`` gives the logic
``{"current": element, "accumulator": value}``. A first argument that is not an array counts as
empty. ``all`` of an empty array is false, ``none`` true, ``some`` false.

``in`` tests a substring when the haystack is a string (the needle converted with ToString) and
strict equality (``===``) against the elements of an array: ``{"in": [1, ["1", true]]}`` is false.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rules_engine.conditions.closures import constant
from rules_engine.conditions.codegen import Code, CodeGen, Kind
from rules_engine.conditions.jsvalues import js_in, js_merge, truthy
from rules_engine.conditions.nodes import Literal, OpNode
from rules_engine.conditions.registry import CompileArg, Evaluator, OperatorRegistry

__all__ = ["register"]


# -- closures ------------------------------------------------------------------------------------


def _scoped(
    loop: Callable[[list[Any], Evaluator], Any], otherwise: Callable[[list[Any]], Any]
) -> Callable[[Sequence[Any], CompileArg], Evaluator]:
    """A lazy compile function: ``loop(items, logic)`` on an array, ``otherwise(value)`` else."""

    def compile_scoped(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
        items, logic = compile_arg(0), compile_arg(1)

        def evaluate(data: Any) -> Any:
            value = items(data)
            if type(value) is not list:
                return otherwise(value)
            return loop(value, logic)

        return evaluate

    return compile_scoped


def _all(items: list[Any], logic: Evaluator) -> bool:
    return bool(items) and all(truthy(logic(item)) for item in items)


def _some(items: list[Any], logic: Evaluator) -> bool:
    return any(truthy(logic(item)) for item in items)


def _none(items: list[Any], logic: Evaluator) -> bool:
    return not any(truthy(logic(item)) for item in items)


def _map(items: list[Any], logic: Evaluator) -> list[Any]:
    return [logic(item) for item in items]


def _filter(items: list[Any], logic: Evaluator) -> list[Any]:
    return [item for item in items if truthy(logic(item))]


def _compile_reduce(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
    items, logic = compile_arg(0), compile_arg(1)
    initial = compile_arg(2) if len(raw) > 2 else constant(None)

    def evaluate(data: Any) -> Any:
        value = items(data)
        accumulator = initial(data)
        if type(value) is not list:
            return accumulator
        for current in value:
            accumulator = logic({"current": current, "accumulator": accumulator})
        return accumulator

    return evaluate


def _member(
    value: Any, strings: frozenset[str], numbers: frozenset[Any], booleans: frozenset[bool], null: bool
) -> bool:
    cls = type(value)
    if cls is str:
        return value in strings
    if cls is int or cls is float:
        return value in numbers
    if cls is bool:
        return value in booleans
    return null and value is None


# -- code generation -----------------------------------------------------------------------------


def _emit_loop(kind: str) -> Callable[[CodeGen, OpNode], Code]:
    def emit(gen: CodeGen, node: OpNode) -> Code:
        items, logic = node.args

        def body() -> list[str]:
            code = gen.emit(logic)
            if kind == "some":
                return ["for data in _items:", f"    if {gen.truth(code)}: return True", "return False"]
            if kind == "none":
                return ["for data in _items:", f"    if {gen.truth(code)}: return False", "return True"]
            if kind == "all":
                return ["for data in _items:", f"    if not {gen.truth(code)}: return False", "return True"]
            if kind == "map":
                return ["_out = []", "for data in _items:", f"    _out.append({code.expr})", "return _out"]
            return ["_out = []", "for data in _items:", f"    if {gen.truth(code)}: _out.append(data)", "return _out"]

        helper = gen.define("_items", body)
        first, again = gen.bind(gen.emit(items))
        if kind == "all":
            return Code(f"({helper}({again}) if type({first}) is list and {again} else False)", Kind.BOOL)
        if kind in ("some", "none"):
            return Code(f"({helper}({again}) if type({first}) is list else {kind == 'none'})", Kind.BOOL)
        return Code(f"({helper}({again}) if type({first}) is list else [])", Kind.LIST)

    return emit


def _emit_reduce(gen: CodeGen, node: OpNode) -> Code:
    items, logic = node.args[0], node.args[1]

    def body() -> list[str]:
        code = gen.emit(logic)
        return [
            "for _current in _items:",
            "    data = {'current': _current, 'accumulator': _acc}",
            f"    _acc = {code.expr}",
            "return _acc",
        ]

    helper = gen.define("_items, _acc", body, data_is_object=True)
    first, again = gen.bind(gen.emit(items))
    # The initial value is evaluated after the array, once, on whichever branch runs.
    initial = gen.emit(node.args[2]).expr if len(node.args) > 2 else "None"
    return Code(f"({helper}({again}, {initial}) if type({first}) is list else {initial})")


def _emit_in(gen: CodeGen, node: OpNode) -> Code | None:
    needle, haystack = node.args
    if not isinstance(haystack, Literal):
        return None
    value = gen.emit(needle)
    hay = haystack.value
    if type(hay) is str:
        if not hay:
            return Code("False", Kind.BOOL, simple=True)
        # A str needle: Python's substring test. Anything else raises TypeError, and the closure
        # backend converts it with ToString as JavaScript does.
        return Code(f"({value.expr} in {gen.ref(hay)})", Kind.BOOL)
    if type(hay) is not list:
        return Code("False", Kind.BOOL, simple=True)
    # Strict equality against constant primitives. NaN equals nothing, and a fresh array or an
    # object literal equals nothing a condition can produce, so they are left out.
    members = [item for item in hay if type(item) in (str, int, float, bool, type(None)) and item == item]
    numbers = [item for item in members if type(item) in (int, float)]
    if not members:
        return Code("False", Kind.BOOL, simple=True)
    if any(type(item) is bool for item in members) or any(item in (0, 1) for item in numbers):
        # A Python set would conflate True with 1 and False with 0: test by JS type.
        strings = frozenset(item for item in members if type(item) is str)
        booleans = frozenset(item for item in members if type(item) is bool)
        sets = ", ".join(gen.ref(group) for group in (strings, frozenset(numbers), booleans))
        return Code(f"{gen.ref(_member)}({value.expr}, {sets}, {None in members})", Kind.BOOL)
    # One set: exact for every hashable value; a list or object needle raises TypeError.
    return Code(f"({value.expr} in {gen.ref(frozenset(members))})", Kind.BOOL)


def register(registry: OperatorRegistry) -> None:
    """Register the array operators."""
    for name, loop, otherwise in (
        ("all", _all, lambda value: False),
        ("some", _some, lambda value: False),
        ("none", _none, lambda value: True),
        ("map", _map, lambda value: []),
        ("filter", _filter, lambda value: []),
    ):
        registry.register_lazy(name, _scoped(loop, otherwise), min_args=2, max_args=2, emit=_emit_loop(name))
    registry.register_lazy("reduce", _compile_reduce, min_args=2, max_args=3, emit=_emit_reduce)
    registry.register_value("merge", js_merge)
    registry.register_value("in", js_in, min_args=2, max_args=2, emit=_emit_in)
