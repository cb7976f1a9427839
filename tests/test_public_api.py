"""The names plugin authors import are pinned: removing or renaming one is a breaking change."""

from __future__ import annotations

import rules_engine
import rules_engine.conductor
import rules_engine.conditions

PLUGIN_API = {
    "__version__", "hookimpl", "hookspec", "ActionType", "ActionFailed", "BuildContext", "ExecutionContext",
    "OptionError", "Plan", "DecoderType", "FieldType", "Operator", "Uplink", "DecodedUplink", "Event", "Firing",
    "Intent", "RulesEngineError", "ConfigError", "ConditionError", "RuleError", "PluginError", "CodecSpecError",
    "DecodeError", "PayloadError", "ConductorError",
}


def test_plugin_api_is_pinned() -> None:
    assert set(rules_engine.__all__) == PLUGIN_API
    for name in PLUGIN_API:
        assert getattr(rules_engine, name) is not None, name


def test_lazy_names_are_the_real_classes() -> None:
    from rules_engine.codec import DecoderType, FieldType
    from rules_engine.conditions import Operator

    assert (rules_engine.DecoderType, rules_engine.FieldType, rules_engine.Operator) == (DecoderType, FieldType, Operator)


def test_conductor_client_api_is_pinned() -> None:
    assert {"ConductorClient", "ConductorURLs", "RetryPolicy", "SubjectType", "Uplink", "IssuedCommand",
            "CommandStatus"} <= set(rules_engine.conductor.__all__)


def test_condition_entry_point() -> None:
    assert rules_engine.conditions.compile_condition({"==": [1, 1]})({}) is True
