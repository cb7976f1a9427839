"""The closure backend: a node tree becomes nested Python closures.

Every operator runs through what it registered: a value operator's function is called with the
evaluated arguments, a lazy operator's compile callback builds its own evaluator. This is the
reference path (the code generator inlines fast paths and calls into this one for the rest) and
the path plugins take. It also evaluates constant subtrees at load time (:func:`fold`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rules_engine.conditions.jsvalues import copy_arrays
from rules_engine.conditions.nodes import ArrayNode, Literal, Node, OpNode
from rules_engine.conditions.registry import ArgumentError, Evaluator
from rules_engine.errors import ConditionError, PluginError

__all__ = ["ClosureCompiler", "constant", "fold"]


def constant(value: Any) -> Evaluator:
    """An evaluator returning ``value`` (a fresh copy each time for an array, as JS would)."""
    if type(value) is list:
        return lambda data: copy_arrays(value)
    return lambda data: value


def _call(func: Callable[..., Any], args: list[Evaluator]) -> Evaluator:
    if not args:
        return lambda data: func()
    if len(args) == 1:
        (a,) = args
        return lambda data: func(a(data))
    if len(args) == 2:
        a, b = args
        return lambda data: func(a(data), b(data))
    if len(args) == 3:
        a, b, c = args
        return lambda data: func(a(data), b(data), c(data))
    return lambda data: func(*[arg(data) for arg in args])


class ClosureCompiler:
    """Compiles nodes to evaluators, each node at most once (so a plugin's compile callback runs
    once per node even when the code generator and its fallback both need the node)."""

    def __init__(self, *, locate_errors: bool = False) -> None:
        # id(node) -> (node, evaluator); holding the node keeps its id from being reused.
        self._memo: dict[int, tuple[Node, Evaluator]] = {}
        self._locate_errors = locate_errors

    def compile(self, node: Node) -> Evaluator:
        """The evaluator of ``node``."""
        key = id(node)
        known = self._memo.get(key)
        if known is not None:
            return known[1]
        cls = type(node)
        if cls is OpNode:
            evaluator = self._operation(node)  # type: ignore[arg-type]
        elif cls is Literal:
            evaluator = constant(node.value)  # type: ignore[attr-defined]
        elif isinstance(node, ArrayNode):
            items = [self.compile(item) for item in node.items]
            evaluator = lambda data: [item(data) for item in items]  # noqa: E731
        elif isinstance(node, OpNode):
            evaluator = self._operation(node)
        else:  # pragma: no cover - the parser builds only the three node types
            raise TypeError(f"not a condition node: {node!r}")
        self._memo[key] = (node, evaluator)
        return evaluator

    def _operation(self, node: OpNode) -> Evaluator:
        op = node.op
        if op.compile is None:
            assert op.func is not None
            evaluator = _call(op.func, [self.compile(arg) for arg in node.args])
            return _located(evaluator, node.path) if self._locate_errors else evaluator

        def compile_arg(index: int) -> Evaluator:
            if not 0 <= index < len(node.args):
                raise ArgumentError(f"no argument {index} (got {len(node.args)})")
            return self.compile(node.args[index])

        try:
            evaluator = op.compile(node.raw, compile_arg)
        except ConditionError:
            raise
        except ArgumentError as exc:
            where = node.path if exc.index is None else node.args[exc.index].path
            raise ConditionError(f"{op.name!r}: {exc.message}", where) from exc
        except Exception as exc:
            raise PluginError(f"operator {op.name!r} failed to compile {node.path}: {exc}") from exc
        if not callable(evaluator):
            raise PluginError(f"operator {op.name!r}: compile returned {type(evaluator).__name__}, not a callable")
        return evaluator


class _LocatedError(Exception):
    """An exception raised by the operator at ``path`` while folding constants."""

    def __init__(self, path: str, error: Exception) -> None:
        super().__init__(path, error)
        self.path = path
        self.error = error


def _located(evaluator: Evaluator, path: str) -> Evaluator:
    def evaluate(data: Any) -> Any:
        try:
            return evaluator(data)
        except _LocatedError:
            raise
        except Exception as exc:
            raise _LocatedError(path, exc) from exc

    return evaluate


def _evaluate_constant(node: Node) -> Literal:
    if isinstance(node, ArrayNode) and all(isinstance(item, Literal) for item in node.items):
        return Literal([item.value for item in node.items], node.path)  # type: ignore[attr-defined]
    try:
        value = ClosureCompiler(locate_errors=True).compile(node)(None)
    except _LocatedError as located:
        message = f"evaluating this constant expression failed: {located.error}"
        raise ConditionError(message, located.path) from located.error
    except (ConditionError, PluginError):
        raise
    except Exception as exc:
        raise ConditionError(f"evaluating this constant expression failed: {exc}", node.path) from exc
    return Literal(value, node.path)


def fold(node: Node) -> Node:
    """``node`` with every constant subtree replaced by its value, computed once, now. A failure
    is a ConditionError at the path of the operator that raised."""
    if not node.foldable:
        return node
    if node.constant:
        return _evaluate_constant(node)
    if isinstance(node, ArrayNode):
        items = tuple(fold(item) for item in node.items)
        return ArrayNode(items, node.path)
    assert isinstance(node, OpNode)
    args = tuple(fold(arg) for arg in node.args)
    if all(new is old for new, old in zip(args, node.args, strict=True)):
        return node
    # A lazy operator sees a folded argument as the constant it evaluates to.
    raw = tuple(
        new.value if isinstance(new, Literal) and new is not old else value
        for new, old, value in zip(args, node.args, node.raw, strict=True)
    )
    return OpNode(node.op, args, raw, node.path)
