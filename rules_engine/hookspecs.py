"""The plugin hooks of the rules engine (pluggy project name ``rules_engine``).

Built-in actions, decoders, payload field types and condition operators are registered through
these same hooks by :mod:`rules_engine.builtin`, so a plugin can do anything a built-in does.
Each ``register_*`` hook returns a list of definitions; the plugin manager records which plugin
gave which name, and a name given twice stops start-up with both plugins named.

A plugin is a module (or object) with functions decorated by :data:`hookimpl`::

    from rules_engine import hookimpl

    @hookimpl
    def register_decoders():
        return [DecoderType(name="acme-v2", options=None, build=lambda options: AcmeDecoder())]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .actions import ActionType
    from .codec import DecoderType, FieldType, FieldTypeRegistry

__all__ = ["PROJECT", "hookspec", "hookimpl"]

PROJECT = "rules_engine"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_actions() -> list[ActionType]:
    """Action types rules can use (``- multicast: {...}``), as :class:`rules_engine.actions.ActionType`."""


@hookspec
def register_decoders(field_types: FieldTypeRegistry) -> list[DecoderType]:
    """Payload decoder types (``decoders: {name: {type: struct, ...}}`` in the engine config), as
    :class:`rules_engine.codec.DecoderType`. ``field_types`` holds every registered field type
    (built-in and plugin), for decoders that lay out binary fields; take it only if you need it."""


@hookspec
def register_field_types() -> list[FieldType]:
    """Field types for the ``struct`` decoder and the payload builder, as :class:`rules_engine.codec.FieldType`."""


@hookspec
def register_operators() -> list[Any]:
    """JsonLogic operators for conditions, as :class:`rules_engine.conditions.Operator` definitions."""


@hookspec
def startup(engine: Any) -> None:
    """Called once when the engine has loaded its configuration, rules and plugins, before the
    first poll. ``engine`` is the running :class:`rules_engine.engine.Engine`."""
