"""Match one event against the rules: filter, condition, modifiers, then plan the actions.

Local actions (``set_state``) are applied to the state store at once; every other action
becomes an :class:`Intent` with the idempotency key ``rule|event|action index``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Sequence

from ..acks.spec import seq_hex
from ..actions import lookup
from ..hotpath import trusted
from ..models import Evaluation, Event, Firing, Intent, Uplink, UplinkEvent
from ..rules.compiled import NAMED_KEYS, CompiledRule
from ..rules.index import RuleIndex, UplinkPlan
from ..state import StateStore
from .context import build_context
from .decode import decoded_uplink
from .modifiers import apply_modifiers, truthy

__all__ = ["Matcher", "MatchResult", "intent_key"]

log = logging.getLogger("rules_engine.match")


_NONE: frozenset[str] = frozenset()
_NOTHING: tuple[Sequence[CompiledRule], frozenset[str]] = ((), _NONE)  # no candidates
_NO_CONTEXT: Any = MappingProxyType({})  # for modifiers that read no context: a read fails loudly


def intent_key(rule_id: str, event_id: str, index: int) -> str:
    return f"{rule_id}|{event_id}|{index}"


def _named_keys(uplink: Uplink) -> dict[str, str]:
    """The values of the named modifier keys for an uplink event (what :class:`NamedKey` reads from its context)."""
    fields = uplink.__dict__  # one model attribute read (see ledger/records.py)
    return {name: (fields[field] or "") if field is not None else "" for name, field in NAMED_KEYS.items()}


def _worth_a_look(plan: UplinkPlan, decoded: dict[str, Any], fields: dict[str, Any],
                  store: StateStore) -> tuple[Sequence[CompiledRule], frozenset[str] | set[str]]:
    """The candidates that can fire (no guard, or a guard that holds), and those whose guard is
    false but that may keep modifier state for this event (a false condition may reset or re-arm
    it), in file order; with the ids of the latter. ``fields``: the uplink's field values (its
    ``__dict__``)."""
    passing = plan.guards.passing(decoded)
    if not passing and not plan.unguarded:  # the common case: nothing can fire
        if not plan.stateful:
            return _NOTHING
        if not plan.stateful_by_expression:
            held = store.held
            for field in plan.state_key_fields:
                if held((fields[field] or "") if field is not None else ""):
                    break
            else:
                return _NOTHING  # and no rule keeps state for this uplink's keys
    look = plan.unguarded.union(passing)
    stateful = plan.stateful - look
    pruned: frozenset[str] | set[str] = _NONE
    if stateful:
        holding = set(plan.stateful_by_expression)
        for field in plan.state_key_fields:
            held = store.held((fields[field] or "") if field is not None else "")
            if held:
                holding.update(rule_id for rule_id, _kind in held)
        pruned = stateful & holding
        look |= pruned
    if not look:
        return [], pruned
    by_id = plan.by_id
    return [by_id[rule_id] for rule_id in sorted(look, key=plan.order.__getitem__)], pruned


def _holds_state(rule: CompiledRule, named: dict[str, str], peek: Callable[[str, str, str], Any]) -> bool:
    """Whether the ``for`` or ``edge`` of ``rule`` keeps state for this event (``True`` when a key
    is an expression: that needs the context, the caller looks)."""
    for kind, name in rule.false_state_slots:
        if name is None or peek(rule.id, kind, named[name]) is not None:
            return True
    return False


@dataclass
class MatchResult:
    firings: list[Firing]
    evaluations: list[Evaluation]


class Matcher:
    """Stateless itself: all state lives in the :class:`StateStore` passed to :meth:`match`.

    ``redecode(rule, event)`` returns the decoded fields for a rule that names its own decoder.
    """

    def __init__(self, index: RuleIndex, redecode: Callable[[CompiledRule, Event], dict[str, Any]] | None = None) -> None:
        self.index = index
        self.redecode = redecode
        self._cached_plan = index.cached_plan

    def match(self, event: Event, store: StateStore, *, trace_all: bool = False,
              uplink_fields: dict[str, Any] | None = None) -> MatchResult:
        """``uplink_fields``: the event's ``context["uplink"]`` when the caller already built it.
        ``trace_all``: an evaluation of every candidate rule, fired or not (no rule is skipped)."""
        if event.kind != "uplink":
            return self._run(event, self.index.candidates(event), _NONE, store, trace_all, uplink_fields)
        uplink = event.item.uplink
        plan = self.index.uplink_plan(uplink.app_token, uplink.port)
        if plan.guards and not trace_all:
            candidates, pruned = _worth_a_look(plan, event.item.decoded, uplink.__dict__, store)
            return self._run(event, candidates, pruned, store, trace_all, uplink_fields)
        return self._run(event, plan.rules, _NONE, store, trace_all, uplink_fields)

    def match_uplink(self, parts: dict[str, Any], store: StateStore) -> list[Firing]:
        """The firings of one decoded uplink, given as the field values of its
        :class:`DecodedUplink` (``Decoding.decode_fields``): :meth:`match` without building the
        model, the event, its context or a result when, as for most uplinks, the guards of every
        candidate fail (rules/guards.py) and none of them keeps modifier state to update."""
        # the uplink's field values read from its ``__dict__``: one attribute read instead of
        # several (see ledger/records.py)
        fields = parts["uplink"].__dict__
        plan = self._cached_plan((fields["app_token"], fields["port"])) or self.index.uplink_plan(fields["app_token"], fields["port"])
        if plan.guarded:
            candidates, pruned = _worth_a_look(plan, parts["decoded"], fields, store)
            if not candidates:
                return []
        else:
            candidates, pruned = plan.rules, _NONE
        event = trusted(UplinkEvent, {"kind": "uplink", "item": decoded_uplink(parts)})
        return self._run(event, candidates, pruned, store, False, None).firings

    def _run(self, event: Event, candidates: Sequence[CompiledRule], failing: frozenset[str] | set[str], store: StateStore,
             trace_all: bool, uplink_fields: dict[str, Any] | None) -> MatchResult:
        """Evaluate ``candidates`` in order; ``failing``: those among them whose guard is false."""
        firings: list[Firing] = []
        evaluations: list[Evaluation] = []
        base_context: dict[str, Any] | None = None
        now = event.time.timestamp()
        uplink = event.item.uplink if event.kind == "uplink" else None
        named = None if uplink is None else _named_keys(uplink)
        peek = store.peek_rule_state
        for rule in candidates:
            # the index already applied the AppToken and port filters of an uplink rule
            if (uplink is None or rule.filters_beyond_index) and not rule.accepts(event):
                continue
            pruned = rule.id in failing
            if pruned and (not rule.false_state_slots or (named is not None and not _holds_state(rule, named, peek))):
                continue  # a guard is false, so is the condition, and no modifier state to update
            if pruned and named is not None and rule.false_state_by_name:
                # a guard is false, so is the condition: reset its `for`, re-arm its `edge`, by named
                # keys alone; the context is not read, and not built for this rule
                apply_modifiers(rule, _NO_CONTEXT, False, now, store, named)
                continue
            if rule.own_decoder and uplink is not None and self.redecode is not None:
                context = build_context(event, store, self.redecode(rule, event), uplink_fields)
            else:
                if base_context is None:
                    base_context = build_context(event, store, None, uplink_fields)
                context = base_context
            context["rule"] = rule.context_entry
            error = None
            if pruned:
                value: Any = False
            else:
                try:
                    value = rule.condition(context)
                except Exception as exc:  # a plugin operator that raises must not stop the engine
                    log.warning("condition raised", extra={"rule_id": rule.id, "event_id": event.id, "error": repr(exc)})
                    value, error = False, f"condition raised {type(exc).__name__}: {exc}"
            if error is None and not trace_all and (value is False or value is None or not truthy(value)):
                # The common case. A false condition changes modifier state only where a `for`
                # holds a count (reset) or an `edge` is disarmed (re-arm): none kept, nothing to do.
                for kind, name in rule.false_state_slots:
                    key = named[name] if name is not None and named is not None else rule.keys[kind](context)
                    if peek(rule.id, kind, key) is not None:
                        break
                else:
                    continue
            fired, reason = apply_modifiers(rule, context, value, now, store, named)
            if error:
                reason = error
            if not fired and not trace_all:
                continue
            evaluation = Evaluation(
                rule_id=rule.id,
                event_id=event.id,
                condition=truthy(value),
                values={path: lookup(context, path) for path in rule.condition_vars},
                fired=fired,
                reason=reason,
            )
            evaluations.append(evaluation)
            if fired:
                firings.append(Firing(
                    rule_id=rule.id, event_id=event.id, event_kind=event.kind, time=event.time,
                    evaluation=evaluation, intents=tuple(self._plan(rule, event, context, store)),
                ))
        return MatchResult(firings, evaluations)

    @staticmethod
    def _plan(rule: CompiledRule, event: Event, context: dict[str, Any], store: StateStore) -> list[Intent]:
        intents = []
        for action in rule.actions:
            key = intent_key(rule.id, event.id, action.index)
            try:
                planned_context, tracked = Matcher._tracking(action.planned, context, store)
                plan = action.planned.plan(planned_context)
                params = plan.params
                if tracked:
                    params = {**params, "track": action.planned.track(planned_context, params, store)}
            except Exception as exc:
                log.warning("action could not be planned", extra={"rule_id": rule.id, "event_id": event.id, "error": repr(exc)})
                intents.append(Intent(key=key, rule_id=rule.id, event_id=event.id, index=action.index,
                                      action=action.type.name, params={}, summary=f"{action.type.name} failed to plan",
                                      error=f"{type(exc).__name__}: {exc}"))
                continue
            if action.type.apply is not None:
                action.type.apply(params, store)
            summary = plan.summary + (f" [tracked: seq {params['track']['seq']}, {len(params['track']['expected'])} "
                                      f"device(s) expected]" if tracked else "")
            intents.append(Intent(key=key, rule_id=rule.id, event_id=event.id, index=action.index, action=action.type.name,
                                  params=params, summary=summary, explain=plan.explain or {},
                                  local=action.type.apply is not None))
        return intents

    @staticmethod
    def _tracking(planned: Any, context: dict[str, Any], store: StateStore) -> tuple[dict[str, Any], bool]:
        """For a tracked send (``ack:``), allocate its sequence number and put it in the context."""
        ack_token = getattr(planned, "ack_token", None)
        if ack_token is None or getattr(planned, "ack", None) is None:
            return context, False
        token = ack_token(context, store)
        if not token:
            raise ValueError("cannot track this send: its AppToken is unknown (name 'app_token', or a module seen before)")
        seq = store.allocate_seq(token)
        send = {**(context.get("send") or {}), "seq": seq, "seq_hex": seq_hex(seq), "app_token": token}
        return {**context, "send": send}, True
