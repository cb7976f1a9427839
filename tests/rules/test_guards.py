"""Guards (rules/guards.py): which comparisons are taken from a condition, that the rules they
leave out could never have fired, and that a matcher using them decides exactly as one that
evaluates every candidate (``trace_all``), on boundary and odd values too."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from rules_engine.conditions import compile_condition
from rules_engine.conditions.registry import Operator, OperatorRegistry
from rules_engine.conditions.standard import standard_operators
from rules_engine.rules.guards import Guard, GuardGroups, extract_guards

from .helpers import TOKEN, Feed, load

STANDARD = standard_operators()
PRESENT = {"!": {"missing": ["decoded.t"]}}


@pytest.mark.parametrize("condition, expected", [
    ({">": [{"var": "decoded.t"}, 30]}, (Guard("t", ">", 30),)),
    ({"and": [PRESENT, {">=": [{"var": "decoded.t"}, 1.5]}]}, (Guard("t", ">=", 1.5),)),
    ({"<": [30, {"var": "decoded.t"}]}, (Guard("t", ">", 30),)),  # constant first: flipped
    ({"<=": [{"var": ["decoded.t"]}, -2]}, (Guard("t", "<=", -2),)),
    ({"===": [{"var": "decoded.b"}, 1]}, (Guard("b", "==", 1),)),
    ({"and": [{"==": [{"var": "decoded.b"}, 1]}, {"<": [{"var": "decoded.t"}, 0]}]}, (Guard("b", "==", 1), Guard("t", "<", 0))),
])
def test_comparisons_of_a_decoded_field_with_a_number_are_guards(condition: Any, expected: tuple[Guard, ...]) -> None:
    assert extract_guards(condition, STANDARD) == expected


@pytest.mark.parametrize("condition", [
    {">": [{"var": "decoded.t"}, "30"]},  # a string: JavaScript's conversions decide
    {">": [{"var": "decoded.t"}, True]},
    {">": [{"var": ["decoded.t", 50]}, 30]},  # a default: missing is not "not a number"
    {">": [{"var": "decoded.a.b"}, 30]},
    {">": [{"var": "uplink.port"}, 3]},
    {"<": [0, {"var": "decoded.t"}, 10]},  # between
    {"!=": [{"var": "decoded.t"}, 3]},
    {">": [{"var": "decoded.t"}, 2**60]},  # past 2**53: JavaScript rounds, Python does not
    {"or": [{">": [{"var": "decoded.t"}, 30]}, {"==": [{"var": "decoded.b"}, 1]}]},
    {"and": [{"log": "x"}, {">": [{"var": "decoded.t"}, 30]}]},  # impure: skipping it would show
    True,
])
def test_anything_else_is_not(condition: Any) -> None:
    assert extract_guards(condition, STANDARD) == ()


def test_a_registry_whose_comparison_is_not_the_standard_one_has_no_guards_on_it() -> None:
    registry = OperatorRegistry()  # plugins cannot replace a built-in; a hand-built registry can
    for name in STANDARD:
        if name != ">":
            registry.add(STANDARD[name])
    registry.add(Operator(">", 2, 2, func=lambda a, b: True))
    assert extract_guards({">": [{"var": "decoded.t"}, 30]}, registry) == ()
    assert extract_guards({"<": [{"var": "decoded.t"}, 30]}, registry) == (Guard("t", "<", 30),)


ODD_VALUES: list[Any] = [None, "31", "abc", "", True, False, [], [31], {}, math.nan, math.inf, -math.inf, 2**53 + 1, -(2**60),
                         -0.0, 0, 30, 30.0, 29.999999999999996, 30.000000000000004, 1, 1.0]


def test_a_rule_left_out_could_not_have_held_and_a_plain_number_leaves_out_exactly_the_false_ones() -> None:
    rng = random.Random(3)
    ops = [">", ">=", "<", "<=", "==", "==="]
    numbers = [30, 30.0, -0.0, 1, 0.5, -7, 29.999999999999996, 2**53]
    conditions = {}
    for i in range(120):
        op, number = rng.choice(ops), rng.choice(numbers)
        field = rng.choice(["t", "u"])
        args = [{"var": f"decoded.{field}"}, number] if rng.random() < 0.7 else [number, {"var": f"decoded.{field}"}]
        conditions[f"r{i}"] = {"and": [{"!": {"missing": [f"decoded.{field}"]}}, {op: args}]} if rng.random() < 0.5 else {op: args}
    guards = {rule_id: extract_guards(condition, STANDARD) for rule_id, condition in conditions.items()}
    assert all(len(g) == 1 for g in guards.values())
    compiled = {rule_id: compile_condition(condition, operators=STANDARD) for rule_id, condition in conditions.items()}
    groups = GuardGroups(guards.items())
    values = ODD_VALUES + numbers + [rng.uniform(-40, 40) for _ in range(60)] + [rng.randint(-40, 40) for _ in range(30)]
    for t in values:
        for u in (rng.choice(values), None):
            decoded = {"t": t} if u is None else {"t": t, "u": u}
            passing = set(groups.passing(decoded))
            for rule_id, condition in compiled.items():
                holds = condition({"decoded": decoded})
                if holds:
                    assert rule_id in passing, (conditions[rule_id], decoded)
                value = decoded.get(guards[rule_id][0].field)
                plain = type(value) in (int, float) and abs(value) <= 2**53 or (type(value) is float and value != value)
                if plain and rule_id in passing:
                    assert holds, (conditions[rule_id], decoded)


RULES = """
rules:
  - id: hot
    trigger: {uplink: {app_token: plant, port: 1}}
    condition: {and: [{"!": {missing: [decoded.t]}}, {">": [{var: decoded.t}, 30]}]}
    edge: {clear: {"<": [{var: decoded.t}, 28]}, key: module}
    actions: [log: {message: x}]
  - id: cold-debounced
    trigger: {uplink: {port: 1}}
    condition: {"<": [{var: decoded.t}, 10]}
    for: {count: 3, key: module}
    cooldown: {duration: 10m, key: module}
    actions: [log: {message: x}]
  - id: exactly
    trigger: {uplink: {app_token: plant}}
    condition: {and: [{"==": [{var: decoded.b}, 1]}, {">=": [{var: decoded.t}, 20]}]}
    for: {count: 2}
    actions: [log: {message: x}]
  - id: keyed-by-expression
    trigger: {uplink: {port: 1}}
    condition: {"<=": [20, {var: decoded.t}]}
    edge: {key: {cat: [{var: uplink.module}, "/", {var: uplink.port}]}}
    actions: [log: {message: x}]
  - id: unguarded
    trigger: {uplink: {port: 1}}
    condition: {"==": [{var: decoded.b}, {var: decoded.t}]}
    actions: [log: {message: x}]
"""


def test_a_matcher_with_guards_decides_as_one_that_evaluates_every_rule(tmp_path: Path) -> None:
    ruleset, toolkit = load(tmp_path, RULES)
    assert {rule.id: len(rule.guards) for rule in ruleset.rules} == {
        "hot": 1, "cold-debounced": 1, "exactly": 2, "keyed-by-expression": 1, "unguarded": 0}
    fast, traced = Feed(ruleset, toolkit), Feed(ruleset, toolkit)
    rng = random.Random(11)
    odd = ["31", None, True, "x", 2**53 + 1]  # NaN cannot travel in the JSON payload these tests decode
    fired = set()
    for step in range(4000):
        t = rng.choice([rng.uniform(0, 40), rng.choice([10, 20, 28, 30, 9.5, 30.5]), rng.choice(odd)])
        b = rng.choice([0, 1, 1.0, True, "1", None])
        decoded = {key: value for key, value in (("t", t), ("b", b)) if value is not None or rng.random() < 0.5}
        kwargs: dict[str, Any] = {"module": f"m{rng.randint(1, 4)}", "port": rng.choice([1, 1, 2]), **decoded}
        by_fast = fast.fired(step * 7.0, token=TOKEN, **kwargs)
        assert by_fast == traced.fired(step * 7.0, token=TOKEN, trace=True, **kwargs), (step, kwargs)
        fired.update(by_fast)
    assert fast.store.rules == traced.store.rules
    assert fired == {"hot", "cold-debounced", "exactly", "keyed-by-expression", "unguarded"}
