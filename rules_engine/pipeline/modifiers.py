"""Rule modifiers (for, edge, throttle, cooldown), evaluated against timestamps in the state
store, never against in-memory timers, so a restart changes nothing. Times are event times."""

from __future__ import annotations

from typing import Any

from ..durations import format_duration
from ..rules.compiled import CompiledRule
from ..state import StateStore

__all__ = ["apply_modifiers", "truthy"]



def _key(rule: CompiledRule, kind: str, context: dict[str, Any], named: dict[str, str] | None) -> str:
    if named is not None:
        name = rule.key_names.get(kind)
        if name is not None:
            return named[name]
    return rule.keys[kind](context)


def _hold(rule: CompiledRule, context: dict[str, Any], holds: bool, now: float, store: StateStore,
          named: dict[str, str] | None) -> tuple[bool, str]:
    spec = rule.spec.hold
    assert spec is not None
    key = _key(rule, "for", context, named)
    if not holds:
        if store.peek_rule_state(rule.id, "for", key) is not None:
            store.set_rule_state(rule.id, "for", key, None)
        return False, "condition is false"
    state = store.rule_state(rule.id, "for", key) or {"since": now, "count": 0}
    state["count"] += 1
    store.set_rule_state(rule.id, "for", key, state)
    waiting = []
    if spec.count is not None and state["count"] < spec.count:
        waiting.append(f"held for {state['count']} of {spec.count} uplinks")
    if spec.duration is not None and now - state["since"] < spec.duration.total_seconds():
        waiting.append(f"held for {now - state['since']:g}s of {format_duration(spec.duration)}")
    if waiting:
        return False, "; ".join(waiting)
    return True, "held long enough"


def _edge(rule: CompiledRule, context: dict[str, Any], holds: bool, store: StateStore,
          named: dict[str, str] | None) -> tuple[bool, str]:
    key = _key(rule, "edge", context, named)
    state = store.peek_rule_state(rule.id, "edge", key)
    armed = state is None or state["armed"]
    if holds:
        if armed:
            store.set_rule_state(rule.id, "edge", key, {"armed": False})
            return True, "condition turned true"
        return False, "condition is still true since the last firing (edge)"
    if not armed:
        rearm = True if rule.clear is None else bool(truthy(rule.clear(context)))
        if rearm:
            store.set_rule_state(rule.id, "edge", key, None)
            return False, "condition is false; re-armed" if rule.clear is None else "clear condition holds; re-armed"
        return False, "condition is false; waiting for the clear condition"
    return False, "condition is false"


def truthy(value: Any) -> bool:
    """JsonLogic truthiness: ``[]``, ``0``, ``""``, ``null``, ``false`` (and NaN) are false; ``{}`` and ``"0"`` true."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, (int, float)):
        return value == value and value != 0
    if isinstance(value, (str, list)):
        return len(value) > 0
    return True


def apply_modifiers(rule: CompiledRule, context: dict[str, Any], condition: Any, now: float, store: StateStore,
                    named: dict[str, str] | None = None) -> tuple[bool, str]:
    """Whether the rule fires for this event, and why (or why not). Updates modifier state.

    ``named``: the values of the named keys (``module``, ...) for this event, when the caller
    computed them once for all rules; otherwise each rule's key function reads the context."""
    holds = truthy(condition)
    if not holds and not rule.stateful_when_false:
        return False, "condition is false"
    reason = "condition is true" if holds else "condition is false"
    if rule.spec.hold is not None:
        holds, reason = _hold(rule, context, holds, now, store, named)
    if rule.spec.edge is not None:
        holds, reason = _edge(rule, context, holds, store, named)
    if not holds:
        return False, reason
    throttle = rule.spec.throttle
    throttle_key = times = None
    if throttle is not None:
        throttle_key = _key(rule, "throttle", context, named)
        window = throttle.per.total_seconds()
        state = store.rule_state(rule.id, "throttle", throttle_key) or {"times": []}
        times = [t for t in state["times"] if now - t < window]
        if len(times) >= throttle.max:
            store.set_rule_state(rule.id, "throttle", throttle_key, {"times": times})
            return False, f"throttled: {len(times)} firings within {format_duration(throttle.per)}"
    cooldown = rule.spec.cooldown
    cooldown_key = None
    if cooldown is not None:
        cooldown_key = _key(rule, "cooldown", context, named)
        state = store.peek_rule_state(rule.id, "cooldown", cooldown_key)
        if state is not None and now - state["last"] < cooldown.duration.total_seconds():
            remaining = cooldown.duration.total_seconds() - (now - state["last"])
            return False, f"cooling down for another {remaining:g}s"
    if throttle is not None and times is not None:
        store.set_rule_state(rule.id, "throttle", throttle_key or "", {"times": times + [now]})
    if cooldown is not None:
        store.set_rule_state(rule.id, "cooldown", cooldown_key or "", {"last": now})
    return True, reason
