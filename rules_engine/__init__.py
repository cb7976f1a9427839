"""Event-driven automation rules engine for Link Labs Conductor.

The public API for plugin authors (pinned by ``tests/test_public_api.py``)::

    from rules_engine import hookimpl, ActionType, Plan, OptionError, DecoderType, FieldType, Operator
"""

from __future__ import annotations

from .actions import ActionFailed, ActionType, BuildContext, ExecutionContext, OptionError, Plan
from .errors import (
    CodecSpecError,
    ConditionError,
    ConductorError,
    ConfigError,
    DecodeError,
    PayloadError,
    PluginError,
    RuleError,
    RulesEngineError,
)
from .hookspecs import hookimpl, hookspec
from .models import DecodedUplink, Event, Firing, Intent, Uplink

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "hookimpl",
    "hookspec",
    "ActionType",
    "ActionFailed",
    "BuildContext",
    "ExecutionContext",
    "OptionError",
    "Plan",
    "DecoderType",
    "FieldType",
    "Operator",
    "Uplink",
    "DecodedUplink",
    "Event",
    "Firing",
    "Intent",
    "RulesEngineError",
    "ConfigError",
    "ConditionError",
    "RuleError",
    "PluginError",
    "CodecSpecError",
    "DecodeError",
    "PayloadError",
    "ConductorError",
]


def __getattr__(name: str) -> object:
    # Imported lazily: the codec and conditions packages are not needed to import the CLI.
    if name in ("DecoderType", "FieldType"):
        from . import codec

        return getattr(codec, name)
    if name == "Operator":
        from .conditions import Operator

        return Operator
    raise AttributeError(f"module 'rules_engine' has no attribute {name!r}")
