"""Index uplink rules by (AppToken, port) so most rules are never looked at for an uplink."""

from __future__ import annotations

from collections import defaultdict

from ..models import Event
from .compiled import CompiledRule

__all__ = ["RuleIndex"]

_ANY = None


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
        self._cache: dict[tuple[str | None, int | None], list[CompiledRule]] = {}

    def candidates(self, event: Event) -> list[CompiledRule]:
        if event.kind != "uplink":
            return self._by_kind.get(event.kind, [])
        uplink = event.item.uplink
        slot = (uplink.app_token, uplink.port)
        cached = self._cache.get(slot)
        if cached is None:
            merged: dict[str, CompiledRule] = {}
            for key in (slot, (uplink.app_token, _ANY), (_ANY, uplink.port), (_ANY, _ANY)):
                for rule in self._uplink.get(key, ()):
                    merged[rule.id] = rule
            cached = sorted(merged.values(), key=lambda rule: self._order[rule.id])
            if len(self._cache) < 100_000:
                self._cache[slot] = cached
        return cached

    def by_kind(self, kind: str) -> list[CompiledRule]:
        return list(self._by_kind.get(kind, []))
