"""Lint: conditions that load and run, but probably do not mean what they say.

``lint_condition(rule, known_fields=None)`` returns a list of :class:`LintWarning`, each with the
JSON path of the node, a message and a stable ``code``:

``missing-compares-as-zero``
    A ``var`` that may be missing is an operand of ``<``, ``<=``, ``>`` or ``>=``. A missing value
    is null and null compares as 0, so ``{"<": [{"var": "decoded.temperature"}, 30]}`` is true for
    an uplink with no temperature at all.
``missing-in-arithmetic``
    Same, as an operand of ``-``, ``/``, ``%``, ``min``, ``max`` (null counts as 0) or ``+``,
    ``*`` (null makes the result NaN).
``unknown-field``
    A path under a root declared in ``known_fields`` that the declaration does not contain
    (with a did-you-mean).
``array-identity``
    ``===``/``!==`` with an array literal operand: arrays compare by identity, so ``===`` is
    always false.
``empty-path-segment``
    A ``var`` path such as ``"decoded..temperature"`` or ``"decoded."``.

A ``var`` *may be missing* unless one of these holds:

* it has a default other than null (``{"var": ["decoded.temperature", 0]}``): the author has
  said what absence means (a field present with the value null still reads as null);
* it is *guarded*: the comparison only runs when the path is known to be present. Guards are
  the operands before it in an enclosing ``and`` that are truthy only when the path is present
  (``{"!": {"missing": [...]}}`` or ``{"!": [{"missing": [...]}]}`` listing the path, or
  ``{"missing_some": [n, [...]]}`` negated with ``n`` equal to the number of keys,
  ``{"!!": {"var": path}}``, ``{"var": path}`` itself, ``{"!=": [{"var": path}, null]}``,
  ``{"==": [{"var": path}, non-null literal]}``), the operands before it in an enclosing ``or``
  that are falsy only when it is present (``{"missing": [...]}``), and the matching branches of
  ``if``/``?:`` (the then-branch of such a truthy test, the else-branch of such a falsy test).
  The path must match exactly: a guard on ``decoded`` does not cover ``decoded.temperature``.

``known_fields`` maps a root of the context to the dotted field paths declared under it, e.g.
``{"decoded": {"temperature", "humidity", "gps.lat", "gps.lon"}}`` (what a decoder declares).
Paths under other roots are not checked. A path is known when it is a declared field, lies
inside one (``decoded.gps.lat.x`` when ``gps.lat`` is declared) or is the parent of one
(``decoded.gps``). Inside ``some``/``all``/``none``/``map``/``filter``/``reduce`` the data is the
element, so those paths are not checked against ``known_fields``.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from rules_engine.conditions.paths import ROOT, child_index, child_key

__all__ = ["LintWarning", "lint_condition", "KnownFields"]

KnownFields = Mapping[str, Collection[str]]

_RELATIONAL = frozenset({"<", "<=", ">", ">="})
_ARITHMETIC_ZERO = frozenset({"-", "/", "%", "min", "max"})
_ARITHMETIC_NAN = frozenset({"+", "*"})
_SCOPED = frozenset({"some", "all", "none", "map", "filter", "reduce"})
_Facts = frozenset[str]
_NONE: _Facts = frozenset()


@dataclass(frozen=True, slots=True)
class LintWarning:
    """One finding: the JSON path of the node, what is wrong, and a stable code."""

    path: str
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"


def _operation(node: Any) -> tuple[str, list[Any]] | None:
    if type(node) is dict and len(node) == 1:
        ((name, value),) = node.items()
        if isinstance(name, str):
            return name, (value if type(value) is list else [value])
    return None


def _plain_var(node: Any) -> tuple[str, bool] | None:
    """``(path, may_be_missing)`` of a ``var`` with a constant, non-empty path."""
    operation = _operation(node)
    if operation is None or operation[0] != "var" or not operation[1]:
        return None
    args = operation[1]
    path = args[0]
    if type(path) is bool or type(path) not in (str, int, float) or path == "":
        return None
    has_default = len(args) > 1 and args[1] is not None
    return str(path), not has_default


def _keys(args: list[Any]) -> list[str] | None:
    keys = args[0] if args and type(args[0]) is list else args
    if all(type(key) in (str, int, float) and type(key) is not bool for key in keys):
        return [str(key) for key in keys]
    return None


def _when_truthy(node: Any) -> _Facts:
    """Paths that are certainly present when ``node`` is truthy."""
    operation = _operation(node)
    if operation is None:
        return _NONE
    name, args = operation
    if name == "!" and len(args) == 1:
        return _when_falsy(args[0])
    if name == "!!" and len(args) == 1:
        return _when_truthy(args[0])
    if name == "var":
        var = _plain_var(node)
        return frozenset({var[0]}) if var and var[1] else _NONE
    if name == "and":
        return frozenset().union(*(_when_truthy(arg) for arg in args))
    if name == "or" and args:
        return frozenset.intersection(*(_when_truthy(arg) for arg in args))
    if name in ("!=", "!==", "==", "===") and len(args) == 2:
        wanted_null = name in ("!=", "!==")
        for var_node, other in ((args[0], args[1]), (args[1], args[0])):
            var = _plain_var(var_node)
            if var and var[1] and not isinstance(other, (dict, list)) and (other is None) == wanted_null:
                return frozenset({var[0]})
    return _NONE


def _when_falsy(node: Any) -> _Facts:
    """Paths that are certainly present when ``node`` is falsy."""
    operation = _operation(node)
    if operation is None:
        return _NONE
    name, args = operation
    if name == "missing":
        keys = _keys(args)
        return frozenset(keys) if keys else _NONE
    if name == "missing_some" and len(args) == 2 and type(args[1]) is list:
        keys = _keys([args[1]])
        if keys and type(args[0]) in (int, float) and args[0] >= len(keys):
            return frozenset(keys)
        return _NONE
    if name == "!" and len(args) == 1:
        return _when_truthy(args[0])
    if name == "or":
        return frozenset().union(*(_when_falsy(arg) for arg in args))
    if name == "and" and args:
        return frozenset.intersection(*(_when_falsy(arg) for arg in args))
    return _NONE


class _Linter:
    def __init__(self, known_fields: KnownFields | None) -> None:
        self.known = {root: frozenset(fields) for root, fields in (known_fields or {}).items()}
        self.warnings: list[LintWarning] = []

    def warn(self, path: str, message: str, code: str) -> None:
        self.warnings.append(LintWarning(path, message, code))

    def walk(self, node: Any, path: str, guarded: _Facts, scoped: bool) -> None:
        if type(node) is list:
            for i, item in enumerate(node):
                self.walk(item, child_index(path, i), guarded, scoped)
            return
        operation = _operation(node)
        if operation is None:
            return
        name, args = operation
        op_path = child_key(path, name)
        listed = type(node[name]) is list

        def arg_path(i: int) -> str:
            return child_index(op_path, i) if listed else op_path

        if name == "var":
            self.check_var(node, op_path, scoped)
        elif name in ("missing", "missing_some") and not scoped:
            keys = _keys(args if name == "missing" else args[1:2])
            for key in keys or ():
                self.check_field(key, op_path)
        elif name in _RELATIONAL | _ARITHMETIC_ZERO | _ARITHMETIC_NAN:
            self.check_operands(name, args, arg_path, guarded)
        elif name in ("===", "!==") and any(type(arg) is list for arg in args):
            always = "false" if name == "===" else "true"
            message = f"'{name}' compares arrays by identity: with an array literal it is always {always}"
            self.warn(op_path, message, "array-identity")
        self.walk_args(name, args, arg_path, guarded, scoped)

    def walk_args(self, name: str, args: list[Any], arg_path: Any, guarded: _Facts, scoped: bool) -> None:
        if name in _SCOPED:
            for i, arg in enumerate(args):
                self.walk(arg, arg_path(i), _NONE if i == 1 else guarded, scoped or i == 1)
            return
        facts = guarded
        if name in ("and", "or"):
            for i, arg in enumerate(args):
                self.walk(arg, arg_path(i), facts, scoped)
                facts = facts | (_when_truthy(arg) if name == "and" else _when_falsy(arg))
            return
        if name in ("if", "?:"):
            for i, arg in enumerate(args):
                is_test = i % 2 == 0 and i < len(args) - 1
                if is_test or (i == len(args) - 1 and len(args) % 2):
                    self.walk(arg, arg_path(i), facts, scoped)  # a test, or the final else
                else:
                    self.walk(arg, arg_path(i), facts | _when_truthy(args[i - 1]), scoped)
                if is_test:
                    facts = facts | _when_falsy(arg)
            return
        for i, arg in enumerate(args):
            self.walk(arg, arg_path(i), guarded, scoped)

    def check_operands(self, name: str, args: list[Any], arg_path: Any, guarded: _Facts) -> None:
        for i, arg in enumerate(args):
            var = _plain_var(arg)
            if var is None or not var[1] or var[0] in guarded:
                continue
            where = child_key(arg_path(i), "var")
            field, guard = var[0], f'{{"!": {{"missing": ["{var[0]}"]}}}}'
            if name in _RELATIONAL:
                self.warn(
                    where,
                    f"'{field}' compares as 0 when it is missing, so '{name}' can be true without it; "
                    f"guard it with {guard} in an enclosing 'and', or give a default",
                    "missing-compares-as-zero",
                )
            else:
                effect = "NaN" if name in _ARITHMETIC_NAN else "as if it were 0"
                self.warn(
                    where,
                    f"'{field}' makes '{name}' compute {effect} when it is missing; guard it with {guard} "
                    "in an enclosing 'and', or give a default",
                    "missing-in-arithmetic",
                )

    def check_var(self, node: Any, op_path: str, scoped: bool) -> None:
        var = _plain_var(node)
        if var is None:
            return
        path = var[0]
        if "" in path.split("."):
            self.warn(op_path, f"the path {path!r} has an empty segment (a stray '.')", "empty-path-segment")
        if not scoped:
            self.check_field(path, op_path)

    def check_field(self, path: str, where: str) -> None:
        root, _, rest = path.partition(".")
        if root not in self.known:
            close = difflib.get_close_matches(root, list(self.known), n=1, cutoff=0.8)
            if close and rest:
                suggestion = self.suggest(f"{close[0]}.{rest}", close[0])
                self.warn(where, f"unknown field '{path}'{suggestion}", "unknown-field")
            return
        fields = self.known[root]
        if not rest or any(rest == f or rest.startswith(f + ".") or f.startswith(rest + ".") for f in fields):
            return
        self.warn(where, f"unknown field '{path}'{self.suggest(path, root)}", "unknown-field")

    def suggest(self, path: str, root: str) -> str:
        candidates: set[str] = set()
        for field in self.known.get(root, ()):
            parts = field.split(".")
            candidates.update(f"{root}." + ".".join(parts[: i + 1]) for i in range(len(parts)))
        close = difflib.get_close_matches(path, sorted(candidates), n=1, cutoff=0.6)
        return f" (did you mean '{close[0]}'?)" if close else ""


def lint_condition(rule: Any, known_fields: KnownFields | None = None) -> list[LintWarning]:
    """The warnings for ``rule`` (see the module documentation for the checks and guards).

    Lint never raises: it reads any JSON, valid condition or not (validation is
    :func:`~rules_engine.conditions.compile_condition`'s job).
    """
    linter = _Linter(known_fields)
    linter.walk(rule, ROOT, _NONE, False)
    return linter.warnings
