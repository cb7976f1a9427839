"""Guards: comparisons of a decoded field with a number that a condition cannot be true without.

``{"and": [{"!": {"missing": ["decoded.temperature"]}}, {">": [{"var": "decoded.temperature"}, 31.2]}]}``
holds only where ``decoded.temperature > 31.2``. The rule index groups such guards by field and
operator, with their numbers sorted, so one binary search per group tells which rules of an
uplink's candidates cannot fire (:class:`GuardGroups`); their conditions are never evaluated.

A guard is used only where skipping the condition changes nothing but the time spent: every
operator in the condition is pure (no ``log``, no impure plugin operator), the comparison is the
standard one, and the field's value is a plain number (an ``int`` within 2**53, or a ``float``),
where JsonLogic's comparison is Python's. Any other value (missing, null, a string, a boolean)
prunes nothing: those rules are evaluated as before.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from ..conditions.registry import OperatorRegistry

__all__ = ["Guard", "GuardGroups", "extract_guards"]

_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "===": "=="}
_EXACT = 2.0**53


@dataclass(frozen=True)
class Guard:
    """``decoded[field] <op> number`` must hold for the condition to hold."""

    field: str
    op: str  # one of >, >=, <, <=, ==
    number: float | int


def _standard_registry() -> OperatorRegistry:
    from ..conditions.standard import standard_operators

    return standard_operators()


_STANDARD: OperatorRegistry | None = None


def _is_standard(registry: OperatorRegistry, name: str) -> bool:
    global _STANDARD
    if _STANDARD is None:
        _STANDARD = _standard_registry()
    mine, standard = registry.get(name), _STANDARD.get(name)
    return mine is not None and standard is not None and mine.func is standard.func and mine.compile is standard.compile


def _operators(expression: Any) -> Iterable[str]:
    if isinstance(expression, dict):
        for name, args in expression.items():
            yield name
            yield from _operators(args)
    elif isinstance(expression, list):
        for item in expression:
            yield from _operators(item)


def _decoded_field(expression: Any) -> str | None:
    """``x`` for ``{"var": "decoded.x"}`` (or ``["decoded.x"]``), no default, one level deep."""
    if not isinstance(expression, dict) or len(expression) != 1 or "var" not in expression:
        return None
    path = expression["var"]
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    if not isinstance(path, str) or not path.startswith("decoded."):
        return None
    name = path[len("decoded."):]
    return name if name and "." not in name else None


def _number(value: Any) -> bool:
    return (type(value) is int and -_EXACT <= value <= _EXACT) or (type(value) is float and value == value and abs(value) != float("inf"))


def _guard(conjunct: Any, registry: OperatorRegistry) -> Guard | None:
    if not isinstance(conjunct, dict) or len(conjunct) != 1:
        return None
    (op, args), = conjunct.items()
    if op not in _FLIPPED or not isinstance(args, list) or len(args) != 2 or not _is_standard(registry, op):
        return None
    left, right = args
    if (name := _decoded_field(left)) is not None and _number(right):
        return Guard(name, "==" if op == "===" else op, right)
    if (name := _decoded_field(right)) is not None and _number(left):
        return Guard(name, _FLIPPED[op], left)
    return None


def extract_guards(condition: Any, registry: OperatorRegistry) -> tuple[Guard, ...]:
    """The guards of a condition: the top-level comparisons (the condition itself, or the
    arguments of a top-level ``and``) of a decoded field with a number. None when any operator
    in it is impure or unknown, so skipping the evaluation could be observed."""
    if condition is None or condition is True:
        return ()
    for name in _operators(condition):
        operator = registry.get(name)
        if operator is None or not operator.pure:
            return ()
    if isinstance(condition, dict) and set(condition) == {"and"} and _is_standard(registry, "and"):
        conjuncts = condition["and"] if isinstance(condition["and"], list) else [condition["and"]]
    else:
        conjuncts = [condition]
    if not _is_standard(registry, "var"):
        return ()
    return tuple(guard for guard in map(lambda c: _guard(c, registry), conjuncts) if guard is not None)


class GuardGroups:
    """One guard per rule (the first, an equality if it has one), grouped by (field, operator),
    numbers sorted. :meth:`passing` returns the ids of the rules whose guard holds for
    ``decoded``, or may hold (the field is not a plain number): only those can fire."""

    __slots__ = ("_relational", "_equal", "ids")

    def __init__(self, guarded: Iterable[tuple[str, tuple[Guard, ...]]]) -> None:
        by_group: dict[tuple[str, str], list[tuple[float | int, str]]] = defaultdict(list)
        ids = []
        for rule_id, guards in guarded:
            if guards:
                guard = next((g for g in guards if g.op == "=="), guards[0])
                by_group[(guard.field, guard.op)].append((guard.number, rule_id))
                ids.append(rule_id)
        #: the ids of the rules with a guard
        self.ids = frozenset(ids)
        relational: list[tuple[str, bool, bool, list[float | int], list[str]]] = []
        equal: list[tuple[str, dict[Any, list[str]], list[str]]] = []
        for (name, op), entries in by_group.items():
            entries.sort(key=lambda entry: entry[0])
            numbers, rule_ids = [number for number, _ in entries], [rule_id for _, rule_id in entries]
            if op == "==":
                same: dict[Any, list[str]] = {}
                for number, rule_id in entries:
                    same.setdefault(number, []).append(rule_id)
                equal.append((name, same, rule_ids))
            else:
                # value > number holds for the numbers below value: a prefix; value < number, a suffix
                relational.append((name, op in (">", ">="), op in (">", "<="), numbers, rule_ids))
        self._relational = tuple(relational)
        self._equal = tuple(equal)

    def __bool__(self) -> bool:
        return bool(self.ids)

    def passing(self, decoded: dict[str, Any]) -> list[str]:
        passing: list[str] = []
        for name, prefix, left, numbers, rule_ids in self._relational:
            value = decoded.get(name)
            kind = type(value)
            if kind is float:
                if value != value:
                    continue  # NaN: every comparison is false
            elif kind is not int or not -_EXACT <= value <= _EXACT:  # type: ignore[operator]
                passing.extend(rule_ids)  # not a plain number: the rules decide for themselves
                continue
            cut = bisect_left(numbers, value) if left else bisect_right(numbers, value)
            if prefix:
                if cut:
                    passing.extend(rule_ids[:cut])
            elif cut < len(numbers):
                passing.extend(rule_ids[cut:])
        for name, same, rule_ids in self._equal:
            value = decoded.get(name)
            kind = type(value)
            if kind is float or (kind is int and -_EXACT <= value <= _EXACT):  # type: ignore[operator]
                found = same.get(value)
                if found:
                    passing.extend(found)
            else:
                passing.extend(rule_ids)
        return passing
