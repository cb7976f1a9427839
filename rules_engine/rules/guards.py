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
from typing import Any, Callable, Iterable

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
    numbers sorted. ``passing(decoded)``, a function compiled for the groups, returns the ids of
    the rules whose guard holds for ``decoded``, or may hold (the field is not a plain number):
    only those can fire."""

    __slots__ = ("passing", "ids")

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
        #: ``passing(decoded) -> [rule id, ...]``: compiled for these groups
        self.passing: Callable[[dict[str, Any]], list[str]] = _compile(by_group)

    def __bool__(self) -> bool:
        return bool(self.ids)


# value > number holds for the numbers below value: a prefix of the sorted numbers (cut by
# bisect_left); >= a prefix too (bisect_right); < a suffix (bisect_right); <= a suffix (bisect_left).
# The test before the cut is false when no number qualifies, and for NaN.
_CUT = {">": ("if v > {first}:", "found += {ids}[:bisect_left({numbers}, v)]"),
        ">=": ("if v >= {first}:", "found += {ids}[:bisect_right({numbers}, v)]"),
        "<": ("if v < {last}:", "found += {ids}[bisect_right({numbers}, v):]"),
        "<=": ("if v <= {last}:", "found += {ids}[bisect_left({numbers}, v):]")}


def _compile(by_group: dict[tuple[str, str], list[tuple[float | int, str]]]) -> Callable[[dict[str, Any]], list[str]]:
    """One function for the groups, a few lines per group: it runs for every uplink of the
    rules' AppTokens and ports. A value that is not a plain number (missing, null, a string, a
    boolean, an int past 2**53) lets all the group's rules through; NaN lets none through."""
    env: dict[str, Any] = {"bisect_left": bisect_left, "bisect_right": bisect_right, "EXACT": _EXACT}
    lines = ["def passing(decoded):", "    found = []", "    get = decoded.get"]
    for index, ((name, op), entries) in enumerate(by_group.items()):
        entries.sort(key=lambda entry: entry[0])
        numbers, rule_ids = [number for number, _ in entries], [rule_id for _, rule_id in entries]
        env[f"ids{index}"] = rule_ids
        lines += [f"    v = get({name!r})", "    t = type(v)",
                  "    if t is float or t is int and -EXACT <= v <= EXACT:"]
        if op == "==":
            same: dict[Any, list[str]] = {}
            for number, rule_id in entries:
                same.setdefault(number, []).append(rule_id)
            env[f"same{index}"] = same
            lines += [f"        hit = same{index}.get(v)", "        if hit:", "            found += hit"]
        else:
            env[f"numbers{index}"], env[f"first{index}"], env[f"last{index}"] = numbers, numbers[0], numbers[-1]
            test, cut = _CUT[op]
            names = {"first": f"first{index}", "last": f"last{index}", "numbers": f"numbers{index}", "ids": f"ids{index}"}
            lines += ["        " + test.format(**names), "            " + cut.format(**names)]
        lines += ["    else:", f"        found += ids{index}"]
    lines.append("    return found")
    exec(compile("\n".join(lines), f"<guards {sorted(by_group)}>", "exec"), env)  # noqa: S102 - source built above from names and numbers
    return env["passing"]  # type: ignore[no-any-return]
