"""A rule after loading: filters as sets, the condition and keys compiled once, actions built."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from ..actions import ActionType, PlannedAction
from ..models import Event
from .guards import Guard
from .schema import RuleSpec
from .source import Located

__all__ = ["CompiledRule", "CompiledAction", "KeyFunction", "NamedKey", "key_function"]

KeyFunction = Callable[[dict[str, Any]], str]


#: The named keys, and the uplink field each one reads.
NAMED_KEYS = {"rule": None, "module": "module", "gateway": "gateway", "app_token": "app_token"}


class NamedKey:
    """A modifier key given by name: the field of the uplink (or, for other events, the device)."""

    __slots__ = ("name", "field")

    def __init__(self, name: str) -> None:
        self.name = name
        self.field = NAMED_KEYS[name]

    def __call__(self, context: dict[str, Any]) -> str:
        if self.field is None:
            return ""
        return str((context.get("uplink") or context.get("device") or {}).get(self.field) or "")

    def __repr__(self) -> str:
        return f"NamedKey({self.name!r})"


def key_function(key: Any, compile_expr: Callable[[Any], Callable[[dict[str, Any]], Any]]) -> KeyFunction:
    """Turn a modifier ``key`` (a name or a JsonLogic expression) into ``context -> str``."""
    if isinstance(key, str) and key in NAMED_KEYS:
        return NamedKey(key)
    compiled = compile_expr(key)

    def evaluate(context: dict[str, Any]) -> str:
        value = compiled(context)
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)

    return evaluate


@dataclass(frozen=True)
class CompiledAction:
    index: int
    type: ActionType
    planned: PlannedAction
    where: Located


@dataclass(frozen=True)
class CompiledRule:
    spec: RuleSpec
    where: Located
    condition: Callable[[dict[str, Any]], Any]
    condition_vars: tuple[str, ...]
    clear: Callable[[dict[str, Any]], Any] | None
    keys: dict[str, KeyFunction]
    actions: tuple[CompiledAction, ...]
    app_tokens: frozenset[str] | None
    ports: frozenset[int] | None
    modules: frozenset[str] | None
    gateways: frozenset[str] | None
    #: Comparisons of decoded fields with numbers the condition cannot hold without (rules/guards.py).
    guards: tuple[Guard, ...] = ()
    id: str = ""
    trigger: str = ""
    #: Modifiers that keep state even while the condition is false (``for`` resets, ``edge`` re-arms).
    stateful_when_false: bool = False
    #: Modifier -> key name, for the modifiers keyed by name (the matcher computes those once per event).
    key_names: dict[str, str] = field(default_factory=dict)
    #: ``context["rule"]`` while this rule is evaluated.
    context_entry: dict[str, Any] = field(default_factory=dict)
    #: ``(modifier, key name or None)`` of its ``for`` and ``edge``: the state a false condition may change.
    false_state_slots: tuple[tuple[str, str | None], ...] = ()
    #: Whether the state a false condition may change is kept under named keys only, with no
    #: ``clear`` condition: the matcher then updates it without building the event's context.
    false_state_by_name: bool = False
    #: Whether the rule names its own decoder.
    own_decoder: bool = False
    #: Filters the rule index does not apply (module, gateway): ``accepts`` must still run for uplinks.
    filters_beyond_index: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", self.spec.id)
        object.__setattr__(self, "trigger", self.spec.trigger.kind)
        object.__setattr__(self, "stateful_when_false", self.spec.hold is not None or self.spec.edge is not None)
        object.__setattr__(self, "key_names", {kind: f.name for kind, f in self.keys.items() if isinstance(f, NamedKey)})
        object.__setattr__(self, "context_entry", {"id": self.spec.id})
        object.__setattr__(self, "false_state_slots", tuple(
            (kind, self.key_names.get(kind)) for kind, spec in (("for", self.spec.hold), ("edge", self.spec.edge)) if spec is not None))
        object.__setattr__(self, "false_state_by_name", bool(self.false_state_slots) and all(
            name is not None for _kind, name in self.false_state_slots) and (self.spec.edge is None or self.clear is None))
        object.__setattr__(self, "own_decoder", self.spec.decoder is not None)
        object.__setattr__(self, "filters_beyond_index", self.modules is not None or self.gateways is not None)

    def accepts(self, event: Event) -> bool:
        """Whether the trigger's filters let ``event`` through (conditions come later)."""
        if event.kind != self.trigger:
            return False
        if self.trigger == "uplink":
            uplink = event.item.uplink
            return (
                (self.app_tokens is None or uplink.app_token in self.app_tokens)
                and (self.ports is None or uplink.port in self.ports)
                and (self.modules is None or uplink.module in self.modules)
                and (self.gateways is None or uplink.gateway in self.gateways)
            )
        if event.kind == "schedule":
            return event.rule_id == self.id
        if event.kind == "silence":
            return (self.app_tokens is None or event.app_token in self.app_tokens) and (
                self.modules is None or event.module in self.modules
            )
        if event.kind == "send":
            wanted = self.spec.trigger.send
            assert wanted is not None
            return event.outcome in wanted.outcome and (wanted.rule is None or event.rule_id in wanted.rule)
        return False
