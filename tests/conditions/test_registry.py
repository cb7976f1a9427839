"""The operator registry: plugin value and lazy operators, arity at load time, duplicates, and
independent registries (no global state)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from rules_engine.conditions import (
    STANDARD_OPERATOR_NAMES,
    ArgumentError,
    CompileArg,
    Evaluator,
    Operator,
    OperatorRegistry,
    compile_condition,
    default_operators,
    standard_operators,
)
from rules_engine.conditions.jsvalues import to_number, truthy
from rules_engine.errors import ConditionError, PluginError

BACKENDS = ["tiered", "codegen", "closures"]


def _abs(value: Any) -> float:
    return abs(to_number(value))


def _compile_count(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
    """``{"count": [items, logic]}``: how many elements satisfy ``logic`` (scoped, like some)."""
    items, logic = compile_arg(0), compile_arg(1)

    def evaluate(data: Any) -> int:
        values = items(data)
        return sum(1 for item in values if truthy(logic(item))) if type(values) is list else 0

    return evaluate


@pytest.fixture
def registry() -> OperatorRegistry:
    registry = standard_operators()
    registry.register_value("abs", _abs, min_args=1, max_args=1)
    registry.register_lazy("count", _compile_count, min_args=2, max_args=2)
    return registry


def test_standard_operators_are_all_registered() -> None:
    assert sorted(standard_operators().names()) == sorted(STANDARD_OPERATOR_NAMES)
    assert len(STANDARD_OPERATOR_NAMES) == 35


@pytest.mark.parametrize("backend", BACKENDS)
def test_plugin_value_operator(registry: OperatorRegistry, backend: str) -> None:
    rule = {">": [{"abs": {"var": "decoded.delta"}}, 5]}
    evaluate = compile_condition(rule, operators=registry, backend=backend)  # type: ignore[arg-type]
    assert evaluate({"decoded": {"delta": -7}}) is True
    assert evaluate({"decoded": {"delta": "-3"}}) is False
    inside_some = {"some": [{"var": "r"}, {">": [{"abs": {"var": ""}}, 5]}]}
    assert compile_condition(inside_some, operators=registry, backend=backend)({"r": [1, -9]}) is True  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
def test_plugin_lazy_operator(registry: OperatorRegistry, backend: str) -> None:
    rule = {">=": [{"count": [{"var": "decoded.readings"}, {">": [{"var": "value"}, 50]}]}, 2]}
    evaluate = compile_condition(rule, operators=registry, backend=backend)  # type: ignore[arg-type]
    assert evaluate({"decoded": {"readings": [{"value": 60}, {"value": 10}, {"value": 70}]}}) is True
    assert evaluate({"decoded": {"readings": [{"value": 60}]}}) is False
    assert evaluate({}) is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_lazy_operator_short_circuits(backend: str) -> None:
    calls: list[Any] = []
    registry = standard_operators()

    def spy(value: Any) -> Any:
        calls.append(value)
        return value

    registry.register_value("spy", spy, min_args=1, max_args=1, pure=False)

    def compile_unless(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
        test, value = compile_arg(0), compile_arg(1)
        return lambda data: None if truthy(test(data)) else value(data)

    registry.register_lazy("unless", compile_unless, min_args=2, max_args=2)
    evaluate = compile_condition({"unless": [{"var": "ok"}, {"spy": "ran"}]}, operators=registry, backend=backend)  # type: ignore[arg-type]
    assert evaluate({"ok": True}) is None
    assert calls == []
    assert evaluate({"ok": False}) == "ran"
    assert calls == ["ran"]


def test_a_lazy_operator_is_compiled_once_across_tier_up() -> None:
    compiled: list[Any] = []
    registry = standard_operators()

    def compile_unless(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
        compiled.append(raw)
        test, value = compile_arg(0), compile_arg(1)
        return lambda data: None if truthy(test(data)) else value(data)

    registry.register_lazy("unless", compile_unless, min_args=2, max_args=2)
    evaluate = compile_condition({"unless": [{"var": "ok"}, {"var": "v"}]}, operators=registry, tier_up_after=2)
    assert [evaluate({"ok": False, "v": n}) for n in range(4)] == [0, 1, 2, 3]
    assert hasattr(evaluate, "__source__")  # generated code now calls the same compiled evaluator
    assert len(compiled) == 1


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        ({"abs": []}, "$.abs", "'abs' expected exactly 1 argument, got 0"),
        ({"and": [True, {"abs": [1, 2]}]}, "$.and[1].abs", "expected exactly 1 argument, got 2"),
        ({"count": [{"var": "r"}]}, "$.count", "expected exactly 2 arguments, got 1"),
        ({"count": [{"var": "r"}, {"fooo": 1}]}, "$.count[1].fooo", "unknown operator 'fooo'"),
        ({"abz": [1]}, "$.abz", "did you mean 'abs'?"),
    ],
)
def test_arity_and_arguments_checked_at_load(
    registry: OperatorRegistry, rule: Any, path: str, message: str
) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(rule, operators=registry)
    assert caught.value.path == path
    assert message in str(caught.value)


def test_plugin_argument_check_points_at_the_argument() -> None:
    registry = standard_operators()

    def check(raw: Sequence[Any]) -> None:
        if not isinstance(raw[1], str):
            raise ArgumentError("the unit must be a string such as \"C\"", 1)

    registry.register_value("convert", lambda value, unit: value, min_args=2, max_args=2, check=check)
    with pytest.raises(ConditionError) as caught:
        compile_condition({"or": [{"convert": [1, 2]}]}, operators=registry)
    assert caught.value.path == "$.or[0].convert[1]"
    assert "the unit must be a string" in str(caught.value)


def test_lazy_compile_errors(registry: OperatorRegistry) -> None:
    def strict(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
        if raw[0] != "x":
            raise ArgumentError("only 'x' is allowed", 0)
        return compile_arg(0)

    def broken(raw: Sequence[Any], compile_arg: CompileArg) -> Evaluator:
        raise KeyError("bug in the plugin")

    registry.register_lazy("strict", strict, min_args=1, max_args=1)
    registry.register_lazy("broken", broken)
    registry.register_lazy("not_callable", lambda raw, compile_arg: 42)  # type: ignore[arg-type,return-value]
    with pytest.raises(ConditionError) as caught:
        compile_condition({"!": [{"strict": ["y"]}]}, operators=registry)
    assert caught.value.path == "$.![0].strict[0]"
    with pytest.raises(PluginError, match="'broken' failed to compile"):
        compile_condition({"broken": [{"var": "a"}]}, operators=registry)
    with pytest.raises(PluginError, match="not a callable"):
        compile_condition({"not_callable": [{"var": "a"}]}, operators=registry)


def test_duplicate_registration_is_rejected(registry: OperatorRegistry) -> None:
    with pytest.raises(PluginError, match="'abs' is already registered"):
        registry.register_value("abs", _abs, min_args=1, max_args=1)
    with pytest.raises(PluginError, match="'var' is already registered"):
        registry.register_lazy("var", _compile_count)
    with pytest.raises(PluginError, match="'==' is already registered"):
        registry.register_value("==", lambda a, b: a is b)


def test_invalid_registrations() -> None:
    registry = OperatorRegistry()
    with pytest.raises(PluginError, match="invalid arity"):
        registry.register_value("bad", _abs, min_args=2, max_args=1)
    with pytest.raises(PluginError, match="non-empty string"):
        registry.register_value("", _abs)
    with pytest.raises(PluginError, match="must be callable"):
        registry.register_value("x", 3)  # type: ignore[arg-type]


def test_registries_are_independent() -> None:
    first, second = standard_operators(), standard_operators()
    first.register_value("abs", _abs, min_args=1, max_args=1)
    assert "abs" in first and "abs" not in second and "abs" not in default_operators()
    assert compile_condition({"abs": -2}, operators=first)({}) == 2
    for other in (second, None):
        with pytest.raises(ConditionError, match="unknown operator 'abs'"):
            compile_condition({"abs": -2}, operators=other)
    second.register_value("abs", lambda value: "second", min_args=1, max_args=1)  # no clash with first
    assert compile_condition({"abs": -2}, operators=second)({}) == "second"
    copy = first.copy()
    copy.register_value("sign", lambda value: 1)
    assert "sign" not in first


def test_default_registry_is_frozen() -> None:
    with pytest.raises(PluginError, match="frozen"):
        default_operators().register_value("abs", _abs)
    frozen = standard_operators().freeze()
    assert frozen.frozen
    assert not frozen.copy().frozen


def test_pure_plugin_constant_is_folded_impure_is_not() -> None:
    calls = {"pure": 0, "impure": 0}
    registry = standard_operators()

    def pure(value: Any) -> Any:
        calls["pure"] += 1
        return value

    def impure(value: Any) -> Any:
        calls["impure"] += 1
        return value

    registry.register_value("pure", pure, min_args=1, max_args=1)
    registry.register_value("impure", impure, min_args=1, max_args=1, pure=False)
    evaluate = compile_condition({"cat": [{"pure": "a"}, {"impure": "b"}, {"var": "c"}]}, operators=registry)
    assert calls == {"pure": 1, "impure": 0}
    assert evaluate({"c": "c"}) == "abc" and evaluate({"c": "d"}) == "abd"
    assert calls == {"pure": 1, "impure": 2}


def test_constant_plugin_failure_is_a_load_error() -> None:
    registry = standard_operators()
    registry.register_value("explode", lambda value: 1 / 0, min_args=1, max_args=1)
    with pytest.raises(ConditionError) as caught:
        compile_condition({"and": [True, {"explode": 1}]}, operators=registry)
    assert caught.value.path == "$.and[1].explode"
    assert "evaluating this constant expression failed" in str(caught.value)


def test_builtins_run_through_their_registered_functions() -> None:
    registry = standard_operators().without_emitters()
    assert all(registry[name].emit is None for name in registry)
    evaluate = compile_condition({"some": [{"var": "r"}, {">": [{"var": "value"}, 50]}]}, operators=registry)
    assert evaluate({"r": [{"value": 60}]}) is True


def test_ready_made_operator_definitions() -> None:
    registry = standard_operators()
    registry.add(Operator("twice", 1, 1, func=lambda value: to_number(value) * 2))
    registry.add(Operator("count", 2, 2, compile=_compile_count))
    rule = {"twice": {"count": [{"var": "r"}, {"var": ""}]}}
    assert compile_condition(rule, operators=registry)({"r": [1, 0, 2]}) == 4
    with pytest.raises(PluginError, match="'twice' is already registered"):
        registry.add(Operator("twice", 1, 1, func=abs))
    with pytest.raises(PluginError, match="exactly one of func"):
        registry.add(Operator("both", func=abs, compile=_compile_count))
    with pytest.raises(PluginError, match="exactly one of func"):
        registry.add(Operator("neither"))


@pytest.mark.parametrize("name", ["geo.distance", "a[0]", "it's", "two words", 'quo"te'])
def test_operator_names_keep_paths_unambiguous(name: str) -> None:
    with pytest.raises(PluginError, match="cannot contain"):
        standard_operators().register_value(name, abs)
