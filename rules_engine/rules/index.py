"""Index uplink rules by (AppToken, port) so most rules are never looked at for an uplink, and
group the guards of each (AppToken, port)'s rules so most of the rest are never evaluated."""

from __future__ import annotations

from collections import defaultdict

from ..models import Event
from .compiled import NAMED_KEYS, CompiledRule
from .guards import GuardGroups

__all__ = ["RuleIndex", "UplinkPlan"]

_ANY = None


class UplinkPlan:
    """The candidate rules of one (AppToken, port), in file order, with what the matcher needs to
    skip most of them for an uplink: their guards, and which of them keep modifier state while
    their condition is false (``for``, ``edge``) under which named keys."""

    __slots__ = ("rules", "guards", "guarded", "unguarded", "order", "by_id", "stateful", "stateful_by_expression",
                 "state_key_fields")

    def __init__(self, rules: list[CompiledRule]) -> None:
        self.rules = rules
        self.guards = GuardGroups((rule.id, rule.guards) for rule in rules if rule.guards)
        self.guarded = bool(self.guards)
        self.unguarded = frozenset(rule.id for rule in rules) - self.guards.ids
        self.order = {rule.id: position for position, rule in enumerate(rules)}
        self.by_id = {rule.id: rule for rule in rules}
        self.stateful = frozenset(rule.id for rule in rules if rule.false_state_slots)
        self.stateful_by_expression = frozenset(rule.id for rule in rules if any(name is None for _, name in rule.false_state_slots))
        #: the uplink attributes the named keys of those rules read (``None``: the rule-wide key "")
        self.state_key_fields = tuple(NAMED_KEYS[name] for name in
                                      sorted({name for rule in rules for _, name in rule.false_state_slots if name is not None}))


class RuleIndex:
    """Candidate rules for an event, in file order. Filters are still checked by ``accepts``."""

    def __init__(self, rules: list[CompiledRule]) -> None:
        self.rules = list(rules)
        self._order = {rule.id: position for position, rule in enumerate(self.rules)}
        self._uplink: dict[tuple[str | None, int | None], list[CompiledRule]] = defaultdict(list)
        self._by_kind: dict[str, list[CompiledRule]] = defaultdict(list)
        for rule in self.rules:
            if not rule.spec.enabled:
                continue
            self._by_kind[rule.trigger].append(rule)
            if rule.trigger != "uplink":
                continue
            for token in rule.app_tokens or (_ANY,):
                for port in rule.ports or (_ANY,):
                    self._uplink[(token, port)].append(rule)
        self._cache: dict[tuple[str | None, int | None], UplinkPlan] = {}
        #: ``cached_plan((app_token, port))``: the plan if :meth:`uplink_plan` already built it, else None
        self.cached_plan = self._cache.get

    def candidates(self, event: Event) -> list[CompiledRule]:
        if event.kind != "uplink":
            return self._by_kind.get(event.kind, [])
        return self.uplink_plan(event.item.uplink.app_token, event.item.uplink.port).rules

    def uplink_plan(self, app_token: str | None, port: int | None) -> UplinkPlan:
        """The candidate rules of an uplink on ``(app_token, port)``."""
        slot = (app_token, port)
        cached = self._cache.get(slot)
        if cached is None:
            merged: dict[str, CompiledRule] = {}
            for key in (slot, (app_token, _ANY), (_ANY, port), (_ANY, _ANY)):
                for rule in self._uplink.get(key, ()):
                    merged[rule.id] = rule
            cached = UplinkPlan(sorted(merged.values(), key=lambda rule: self._order[rule.id]))
            if len(self._cache) < 100_000:
                self._cache[slot] = cached
        return cached

    def by_kind(self, kind: str) -> list[CompiledRule]:
        return list(self._by_kind.get(kind, []))
