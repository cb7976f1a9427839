"""What an action is, for built-ins and plugins alike.

An :class:`ActionType` has a name (the key in a rule's ``actions:`` list), a pydantic model for its
options, and ``build``, which turns validated options into a :class:`PlannedAction` once, at load
time. At match time ``plan(context)`` computes everything the action will do (payload bytes,
targets) as JSON-serialisable ``params``; the dispatcher later runs ``execute`` with those params
alone, so nothing about a send depends on state that a restart could lose.

Actions whose effect is local to the ledger (``set_state``) implement ``apply`` instead of
``execute``; the matcher applies them in the same transaction as the event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Protocol

from pydantic import BaseModel

if TYPE_CHECKING:
    from .config import EngineConfig
    from .state import StateStore

__all__ = [
    "ActionType",
    "PlannedAction",
    "Plan",
    "BuildContext",
    "ExecutionContext",
    "ActionFailed",
    "OptionError",
    "render_template",
    "lookup",
]


@dataclass(frozen=True)
class Plan:
    """The result of planning one action for one event."""

    params: dict[str, Any]
    summary: str
    explain: dict[str, Any] | None = None


class PlannedAction(Protocol):
    def plan(self, context: dict[str, Any]) -> Plan: ...


@dataclass(frozen=True)
class BuildContext:
    """What ``ActionType.build`` may use: the config and the engine's compilers."""

    config: EngineConfig
    rule_id: str
    compile_expr: Callable[[Any], Callable[[dict[str, Any]], Any]]
    compile_payload: Callable[[Any], Any]
    trigger_kind: str


@dataclass(frozen=True)
class ExecutionContext:
    """What ``ActionType.execute`` may use when the dispatcher runs an intent."""

    conductor: Any
    http: Any
    logger: Any
    now: Callable[[], Any]


class OptionError(ValueError):
    """Raised by ``ActionType.build`` for an option that validated but cannot work (an unknown
    alias, a payload field out of range...). ``field`` is the option's path inside the action,
    e.g. ``"app_token"`` or ``("payload", 2)``, so the error points at the right line."""

    def __init__(self, field: str | tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.field = (field,) if isinstance(field, str) else tuple(field)


class ActionFailed(Exception):
    """Raised by ``execute``: ``permanent`` failures are recorded with their reason and not retried."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class ActionType:
    name: str
    options: type[BaseModel]
    build: Callable[[Any, BuildContext], PlannedAction]
    execute: Callable[[dict[str, Any], ExecutionContext], Awaitable[dict[str, Any]]] | None = None
    apply: Callable[[dict[str, Any], StateStore], None] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"action name {self.name!r} must be lower_snake_case")
        if (self.execute is None) == (self.apply is None):
            raise ValueError(f"action '{self.name}' needs exactly one of 'execute' (sends) or 'apply' (local)")


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_MISSING = object()


def lookup(context: dict[str, Any], dotted: str) -> Any:
    """``lookup(ctx, "decoded.temperature")``; returns a sentinel-free ``None`` when absent."""
    current: Any = context
    for part in dotted.split("."):
        if isinstance(current, dict):
            current = current.get(part, _MISSING)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            current = _MISSING
        if current is _MISSING:
            return None
    return current


def render_template(template: str, context: dict[str, Any]) -> str:
    """Replace ``{uplink.module}``-style placeholders with context values (``{{`` escapes)."""

    def value(match: re.Match[str]) -> str:
        found = lookup(context, match.group(1))
        if found is None:
            return "null"
        if isinstance(found, float) and found.is_integer():
            return str(int(found))
        return str(found)

    text = template.replace("{{", "\0").replace("}}", "\1")
    return _PLACEHOLDER.sub(value, text).replace("\0", "{").replace("\1", "}")
