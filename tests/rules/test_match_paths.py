"""The matcher's shortcut (a false condition skipped without apply_modifiers when its rule keeps
no for/edge state for the key) decides exactly as the full path (``trace_all``) does."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from .helpers import OTHER, TOKEN, Feed, load

RULES = """
rules:
  - id: hot
    trigger: {uplink: {app_token: plant, port: 1}}
    condition: {">": [{var: decoded.t}, 30]}
    edge: {clear: {"<": [{var: decoded.t}, 28]}, key: module}
    actions: [log: {message: x}]
  - id: cold-debounced
    trigger: {uplink: {port: 1}}
    condition: {"<": [{var: decoded.t}, 10]}
    for: {count: 3, key: module}
    cooldown: {duration: 10m, key: module}
    actions: [log: {message: x}]
  - id: held
    trigger: {uplink: {app_token: plant}}
    condition: {">": [{var: decoded.t}, 25]}
    for: {duration: 2m, key: gateway}
    edge: true
    actions: [log: {message: x}]
  - id: throttled
    trigger: {uplink: {port: 1, module: ["$301$0-0-0-000000001", "$301$0-0-0-000000002"]}}
    condition: {"==": [{var: decoded.button}, 1]}
    throttle: {max: 2, per: 5m, key: app_token}
    actions: [log: {message: x}]
  - id: keyed-by-expression
    trigger: {uplink: {port: 1}}
    condition: {">": [{var: decoded.t}, 20]}
    edge: {key: {cat: [{var: uplink.module}, "/", {var: uplink.port}]}}
    actions: [log: {message: x}]
"""
MODULES = [f"$301$0-0-0-00000000{i}" for i in range(1, 5)]
GATEWAYS = ["$101$0-0-0-000000001", "$101$0-0-0-000000002"]


def test_hot_path_and_general_path_fire_the_same_and_keep_the_same_state(tmp_path: Path) -> None:
    ruleset, toolkit = load(tmp_path, RULES)
    fast, traced = Feed(ruleset, toolkit), Feed(ruleset, toolkit)
    rng = random.Random(7)
    fired_any = set()
    for step in range(3000):
        kwargs: dict[str, Any] = {"module": rng.choice(MODULES), "gateway": rng.choice(GATEWAYS), "token": rng.choice([TOKEN, OTHER]),
                                  "port": rng.choice([1, 1, 1, 2]), "t": round(rng.uniform(0, 40), 1), "button": rng.choice([0, 1])}
        at = step * 7.0
        by_fast = fast.fired(at, **kwargs)
        by_traced = traced.fired(at, trace=True, **kwargs)
        assert by_fast == by_traced, (step, kwargs)
        fired_any.update(by_fast)
    assert fast.store.rules == traced.store.rules
    assert fired_any == {"hot", "cold-debounced", "held", "throttled", "keyed-by-expression"}


def test_a_condition_that_raises_is_evaluated_once_and_stops_nothing(tmp_path: Path) -> None:
    ruleset, toolkit = load(tmp_path, RULES)
    calls = []

    def raising(context: dict[str, Any]) -> Any:
        calls.append(context["uplink"]["uuid"])
        raise ZeroDivisionError("a plugin operator failed")

    hot = next(rule for rule in ruleset.rules if rule.id == "hot")
    object.__setattr__(hot, "condition", raising)
    feed = Feed(ruleset, toolkit)
    assert feed.fired(0, t=35) == ["keyed-by-expression"]
    assert calls == ["u1"]
    traced = feed.uplink(10, t=35, trace=True)
    assert [e.reason for e in traced.evaluations if e.rule_id == "hot"] == ["condition raised ZeroDivisionError: a plugin operator failed"]
