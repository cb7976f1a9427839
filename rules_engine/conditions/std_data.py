"""Standard operators that read the data: ``var``, ``missing``, ``missing_some``.

``{"var": path}`` / ``{"var": [path, default]}``: the path is a string (dotted), a number, null or
``""`` (the data itself), or an operation computing one. ``missing`` lists the keys whose value is
absent, null or ``""``; ``missing_some`` is ``[]`` when at least N of the keys are present.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rules_engine.conditions.codegen import Code, CodeGen, Kind
from rules_engine.conditions.jsvalues import js_ge
from rules_engine.conditions.nodes import ArrayNode, Literal, OpNode
from rules_engine.conditions.registry import ArgumentError, CompileArg, Evaluator, OperatorRegistry
from rules_engine.conditions.varpath import (
    MISSING,
    lookup,
    missing_keys,
    missing_some,
    split_path,
)

__all__ = ["register"]


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "an object" if len(value) != 1 else "an operation"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    return repr(value)


def _is_operation(value: Any) -> bool:
    return type(value) is dict and len(value) == 1


def _is_key(value: Any) -> bool:
    return type(value) in (str, int, float) or _is_operation(value)


# -- load-time checks ----------------------------------------------------------------------------


def _check_var(raw: Sequence[Any]) -> None:
    if not raw:
        return
    path = raw[0]
    if not (path is None or _is_key(path)):
        raise ArgumentError(
            f"the path must be a string such as \"decoded.temperature\", a number, null or an operation; "
            f"got {_describe(path)}",
            0,
        )


def _check_missing(raw: Sequence[Any]) -> None:
    if raw and type(raw[0]) is list:
        if len(raw) > 1:
            raise ArgumentError(
                f"give either one array of keys or the keys as arguments, not both (got an array and "
                f"{len(raw) - 1} more argument(s), which json-logic-js ignores)"
            )
        keys: Sequence[Any] = raw[0]
    else:
        keys = raw
    for key in keys:
        if not _is_key(key):
            raise ArgumentError(
                f"a key must be a string such as \"decoded.temperature\" or a number, got {_describe(key)}"
            )


def _check_missing_some(raw: Sequence[Any]) -> None:
    need, options = raw
    if not (type(need) in (int, float) or _is_operation(need)):
        raise ArgumentError(f"the first argument (how many must be present) must be a number, got {_describe(need)}", 0)
    if type(options) is not list:
        raise ArgumentError(f"the second argument must be an array of keys, got {_describe(options)}", 1)
    for key in options:
        if not _is_key(key):
            raise ArgumentError(f"a key must be a string or a number, got {_describe(key)}", 1)


# -- closures ------------------------------------------------------------------------------------


def _compile_var(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
    if not raw:
        return lambda data: data
    default = compile_arg(1) if len(raw) > 1 else None
    if not _is_operation(raw[0]):
        keys = split_path(raw[0])
        if default is not None:
            return lambda data: lookup(data, keys, default(data))
        if keys is None:
            return lambda data: data
        if len(keys) == 1:
            (key,) = keys
            return lambda data: data.get(key) if type(data) is dict else lookup(data, keys)
        return lambda data: lookup(data, keys)
    path = compile_arg(0)
    if default is None:
        return lambda data: lookup(data, split_path(path(data)))
    return lambda data: lookup(data, split_path(path(data)), default(data))


def _compile_missing(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
    args = [compile_arg(i) for i in range(len(raw))]
    return lambda data: missing_keys(data, *[arg(data) for arg in args])


def _compile_missing_some(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
    need, options = compile_arg(0), compile_arg(1)
    return lambda data: missing_some(data, need(data), options(data))


# -- code generation -----------------------------------------------------------------------------


def _emit_var(gen: CodeGen, node: OpNode) -> Code | None:
    args = node.args
    if not args:
        return gen.scope_code()
    if not isinstance(args[0], Literal):
        return None  # computed path: the closure
    default = args[1] if len(args) > 1 else None
    if isinstance(default, Literal) and default.value is None:
        default = None
    if default is not None and not default.pure:
        return None  # JS evaluates the default first; keep its side effects in order
    keys = split_path(args[0].value)
    if keys is None:
        return gen.scope_code()
    if default is None:
        return Code(gen.lookup(keys))
    fallback = gen.emit(default)
    found = gen.temp()
    miss = gen.ref(MISSING)
    return Code(f"({fallback.expr} if ({found} := {gen.lookup(keys, missing=True)}) is {miss} else {found})")


def _constant_keys(node: OpNode) -> list[Any] | None:
    args: Sequence[Any] = node.args
    if len(args) == 1 and isinstance(args[0], ArrayNode):
        args = args[0].items
    elif len(args) == 1 and isinstance(args[0], Literal) and type(args[0].value) is list:
        return _plain_keys(args[0].value)
    if not all(isinstance(arg, Literal) for arg in args):
        return None
    return _plain_keys([arg.value for arg in args])


def _plain_keys(keys: list[Any]) -> list[Any] | None:
    return keys if all(type(key) in (str, int, float) for key in keys) else None


def _collect_missing(keys: tuple[Any, ...], values: tuple[Any, ...]) -> list[Any]:
    return [
        key for key, value in zip(keys, values, strict=True) if value is None or (type(value) is str and value == "")
    ]


def _collect_missing_some(need: Any, keys: tuple[Any, ...], values: tuple[Any, ...]) -> list[Any]:
    absent = _collect_missing(keys, values)
    return [] if js_ge(len(keys) - len(absent), need) else absent


def _emit_missing(gen: CodeGen, node: OpNode) -> Code | None:
    keys = _constant_keys(node)
    if keys is None:
        return None
    if not keys:
        return Code("[]", Kind.LIST)
    values = [gen.lookup(split_path(key)) for key in keys]
    tests = []
    for value in values:  # absent, null or "" (faster than `in (None, "")`)
        temp = gen.temp()
        tests.append(f"({temp} := {value}) is None or {temp} == ''")
    truth = "(" + " or ".join(tests) + ")"
    expr = f"{gen.ref(_collect_missing)}({gen.ref(tuple(keys))}, ({', '.join(values)},))"
    return Code(expr, Kind.LIST, truth=truth)


def _emit_missing_some(gen: CodeGen, node: OpNode) -> Code | None:
    need, options = node.args
    if not isinstance(need, Literal):
        return None
    keys = options.value if isinstance(options, Literal) else None
    if keys is None and isinstance(options, ArrayNode) and all(isinstance(i, Literal) for i in options.items):
        keys = [item.value for item in options.items]  # type: ignore[attr-defined]
    if keys is None or _plain_keys(keys) is None or not keys:
        return None
    values = ", ".join(gen.lookup(split_path(key)) for key in keys)
    call = f"{gen.ref(_collect_missing_some)}({gen.emit(need).expr}, {gen.ref(tuple(keys))}, ({values},))"
    return Code(call, Kind.LIST)


def register(registry: OperatorRegistry) -> None:
    """Register ``var``, ``missing`` and ``missing_some``."""
    registry.register_lazy("var", _compile_var, max_args=2, reads_data=True, check=_check_var, emit=_emit_var)
    registry.register_lazy("missing", _compile_missing, reads_data=True, check=_check_missing, emit=_emit_missing)
    registry.register_lazy(
        "missing_some",
        _compile_missing_some,
        min_args=2,
        max_args=2,
        reads_data=True,
        check=_check_missing_some,
        emit=_emit_missing_some,
    )
