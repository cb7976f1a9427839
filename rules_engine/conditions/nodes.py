"""Load-time validation: a JsonLogic tree becomes a tree of nodes, or a ConditionError.

Every node is checked before anything is compiled, including branches that would never run:
unknown operators (with a did-you-mean), argument counts, operator-specific argument rules
(``var`` paths, ``missing`` keys...), objects that are not operations, values that are not JSON.
Each error carries the JSON path of the offending node (see :mod:`rules_engine.conditions.paths`).

The node tree also records, per subtree, whether it is *constant* (reads no data, no side
effects: it may be evaluated once at load time) and *pure* (no side effects).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from rules_engine.conditions.paths import ROOT, child_index, child_key
from rules_engine.conditions.registry import ArgumentError, Operator, OperatorRegistry
from rules_engine.errors import ConditionError

__all__ = ["MAX_DEPTH", "Node", "Literal", "ArrayNode", "OpNode", "parse", "suggest"]

#: Conditions nested deeper than this many JSON levels (objects and arrays) are rejected; no real
#: rule comes close, and the limit keeps evaluation far from Python's recursion limit.
MAX_DEPTH = 100

# Spellings from other languages, pointed at the JsonLogic operator when it is registered.
_ALIASES = {
    "not": "!",
    "&&": "and",
    "||": "or",
    "=": "==",
    "eq": "==",
    "equals": "==",
    "ne": "!=",
    "neq": "!=",
    "<>": "!=",
    "lt": "<",
    "le": "<=",
    "lte": "<=",
    "gt": ">",
    "ge": ">=",
    "gte": ">=",
    "contains": "in",
    "concat": "cat",
    "any": "some",
    "every": "all",
    "ternary": "?:",
    "get": "var",
}

_JSON_SCALARS = frozenset({str, int, float, bool})


class Node:
    """A validated node of a condition; ``path`` is its JSON path.

    ``constant``: no data access and no side effects (it may be evaluated at load time).
    ``pure``: no side effects. ``foldable``: it, or a node below it, is a constant that is not
    already a literal (constant folding has work to do there).
    """

    __slots__ = ("path", "constant", "pure", "foldable")

    path: str
    constant: bool
    pure: bool
    foldable: bool


class Literal(Node):
    """A JSON value that evaluates to itself (an array literal is an :class:`ArrayNode`)."""

    __slots__ = ("value",)

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path
        self.constant = True
        self.pure = True
        self.foldable = False

    def __repr__(self) -> str:
        return f"Literal({self.value!r})"


class ArrayNode(Node):
    """An array whose items are evaluated (``[1, {"var": "x"}]``)."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[Node, ...], path: str) -> None:
        self.items = items
        self.path = path
        constant = pure = True
        foldable = False
        for item in items:
            constant = constant and item.constant
            pure = pure and item.pure
            foldable = foldable or item.foldable
        self.constant, self.pure, self.foldable = constant, pure, constant or foldable

    def __repr__(self) -> str:
        return f"ArrayNode({list(self.items)!r})"


class OpNode(Node):
    """An operation ``{name: args}``; ``raw`` holds the arguments as written."""

    __slots__ = ("op", "args", "raw")

    def __init__(self, op: Operator, args: tuple[Node, ...], raw: tuple[Any, ...], path: str) -> None:
        self.op = op
        self.args = args
        self.raw = raw
        self.path = path
        constant = pure = op.pure
        foldable = False
        for arg in args:
            constant = constant and arg.constant
            pure = pure and arg.pure
            foldable = foldable or arg.foldable
        self.pure = pure
        self.constant = constant and not op.reads_data
        self.foldable = self.constant or foldable

    @property
    def name(self) -> str:
        """The operator name."""
        return self.op.name

    def __repr__(self) -> str:
        return f"OpNode({self.op.name!r}, {list(self.args)!r})"


def suggest(name: str, candidates: Sequence[str]) -> str:
    """A ``" (did you mean 'x'?)"`` hint for an unknown name, or ``""``."""
    alias = _ALIASES.get(name.lower() if isinstance(name, str) else name)
    if alias is not None and alias in candidates:
        matches = [alias]
    else:
        matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if not matches:
        return ""
    return f" (did you mean {matches[0]!r}?)"


def parse(rule: Any, registry: OperatorRegistry) -> Node:
    """Validate ``rule`` against ``registry`` and return its node tree."""
    return _Parser(registry).node(rule, ROOT, 0)


class _Parser:
    def __init__(self, registry: OperatorRegistry) -> None:
        self.registry = registry
        self.lookup = registry.get

    def node(self, raw: Any, path: str, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ConditionError(f"condition nested deeper than {MAX_DEPTH} levels", path)
        cls = type(raw)
        if cls is dict:
            if len(raw) == 1:
                return self.operation(raw, path, depth)
            if not raw:
                return Literal(raw, path)
            keys = ", ".join(repr(key) for key in list(raw)[:4])
            raise ConditionError(
                f"an operation must be an object with exactly one key, the operator; got {len(raw)} keys "
                f"({keys}): write each operation as its own object, e.g. inside 'and' or 'or'",
                path,
            )
        if cls is list:
            if all(item is None or type(item) in _JSON_SCALARS for item in raw):
                return Literal(raw, path)  # what constant folding would make of it, sooner
            items = tuple(self.node(item, child_index(path, i), depth + 1) for i, item in enumerate(raw))
            return ArrayNode(items, path)
        if raw is None or cls in _JSON_SCALARS:
            return Literal(raw, path)
        raise ConditionError(f"unsupported value of type {cls.__name__}: a condition is JSON", path)

    def operation(self, raw: dict[Any, Any], path: str, depth: int) -> OpNode:
        ((name, value),) = raw.items()
        op = self.lookup(name)
        if op is None:
            if not isinstance(name, str):
                raise ConditionError(f"an operator name must be a string, got {name!r}", path)
            message = f"unknown operator {name!r}{suggest(name, self.registry.names())}"
            raise ConditionError(message, child_key(path, name))
        op_path = child_key(path, name)
        listed = type(value) is list
        raw_args: tuple[Any, ...] = tuple(value) if listed else (value,)
        count = len(raw_args)
        if count < op.min_args or (op.max_args is not None and count > op.max_args):
            raise ConditionError(f"{name!r} {op.arity_error(count)}", op_path)
        if op.check is not None:
            try:
                op.check(raw_args)
            except ArgumentError as exc:
                where = op_path if exc.index is None or not listed else child_index(op_path, exc.index)
                raise ConditionError(f"{name!r}: {exc.message}", where) from exc
        depth += 1
        if depth > MAX_DEPTH and raw_args:  # the arguments are one level deeper, scalars included
            where = child_index(op_path, 0) if listed else op_path
            raise ConditionError(f"condition nested deeper than {MAX_DEPTH} levels", where)
        if not listed:
            if value is None or type(value) in _JSON_SCALARS:
                return OpNode(op, (Literal(value, op_path),), raw_args, op_path)
            return OpNode(op, (self.node(value, op_path, depth),), raw_args, op_path)
        args = []
        for i, arg in enumerate(raw_args):
            cls = type(arg)
            if arg is None or cls in _JSON_SCALARS:  # the common cases first, without node()
                args.append(Literal(arg, f"{op_path}[{i}]"))
            elif cls is dict and len(arg) == 1:  # the depth was checked above, for every argument
                args.append(self.operation(arg, f"{op_path}[{i}]", depth))
            else:
                args.append(self.node(arg, f"{op_path}[{i}]", depth))
        return OpNode(op, tuple(args), raw_args, op_path)
