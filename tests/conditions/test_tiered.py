"""Tiered compilation: conditions start on closures and switch to generated code in place."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from rules_engine.conditions import codegen as codegen_module
from rules_engine.conditions import compile_condition, standard_operators
from rules_engine.conditions.codegen import Code, CodeGen
from rules_engine.conditions.nodes import OpNode
from rules_engine.conditions.tiered import TIER_UP_AFTER

HOT = {"and": [{"==": [{"var": "uplink.port"}, 2]}, {">": [{"var": "decoded.temperature"}, 30]}]}
MATCH = {"uplink": {"port": 2}, "decoded": {"temperature": 31.5}}
NO_MATCH = {"uplink": {"port": 2}, "decoded": {"temperature": 12}}


def test_loading_generates_no_code() -> None:
    registry = standard_operators()
    evaluate = compile_condition(HOT, operators=registry)
    assert not hasattr(evaluate, "__source__")
    assert registry.code_cache == {}  # Python's compile() has not run
    assert evaluate(MATCH) is True and evaluate(NO_MATCH) is False


def test_code_is_generated_on_the_threshold_call_and_replaces_the_function_body() -> None:
    registry = standard_operators()
    evaluate = compile_condition(HOT, operators=registry, tier_up_after=5)
    stub = evaluate.__code__
    for _ in range(4):
        assert evaluate(MATCH) is True
    assert evaluate.__code__ is stub and not registry.code_cache
    assert evaluate(NO_MATCH) is False  # the 5th call generates the code, and answers with it
    assert evaluate.__code__ is not stub
    assert "def _condition(data):" in evaluate.__source__  # type: ignore[attr-defined]
    assert len(registry.code_cache) == 1
    generated = evaluate.__code__
    for _ in range(10):
        assert evaluate(MATCH) is True
    assert evaluate.__code__ is generated  # no second generation, no counting left


def test_the_default_threshold() -> None:
    evaluate = compile_condition(HOT)
    for _ in range(TIER_UP_AFTER - 1):
        evaluate(MATCH)
    assert not hasattr(evaluate, "__source__")
    evaluate(MATCH)
    assert hasattr(evaluate, "__source__")


def test_after_tier_up_the_function_is_as_good_as_generated_code() -> None:
    registry = standard_operators()
    tiered = compile_condition(HOT, operators=registry, tier_up_after=1)
    tiered(MATCH)
    direct = compile_condition(HOT, operators=registry, backend="codegen")
    assert tiered.__code__ is direct.__code__  # same shape: one code object, shared
    assert tiered.__source__ == direct.__source__  # type: ignore[attr-defined]


def test_inputs_the_fast_path_does_not_cover_still_fall_back_after_tier_up() -> None:
    evaluate = compile_condition({">": [{"var": "t"}, 30]}, tier_up_after=1)
    assert evaluate({"t": 31}) is True
    assert evaluate({"t": "31"}) is True  # a string: TypeError in the fast path, closures answer
    assert evaluate({"t": [31]}) is True
    assert evaluate({"t": "abc"}) is False


def test_independent_conditions_tier_up_independently() -> None:
    first = compile_condition(HOT, tier_up_after=2)
    second = compile_condition(HOT, tier_up_after=2)
    first(MATCH)
    first(MATCH)
    assert hasattr(first, "__source__") and not hasattr(second, "__source__")
    assert second(MATCH) is True


def test_python_refusing_the_source_leaves_the_condition_on_closures(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise SyntaxError("too many statically nested blocks")

    monkeypatch.setattr(codegen_module, "compile", refuse, raising=False)
    evaluate = compile_condition({"<": [{"var": "x"}, 3]}, operators=standard_operators(), tier_up_after=2)
    assert [evaluate({"x": 1}) for _ in range(5)] == [True] * 5
    assert evaluate({}) is True
    assert not hasattr(evaluate, "__source__")
    assert len(calls) == 1  # tried once, then settled


def test_an_emit_hook_that_raises_leaves_the_condition_on_closures(caplog: pytest.LogCaptureFixture) -> None:
    def broken_emit(gen: CodeGen, node: OpNode) -> Code:
        raise RuntimeError("plugin bug")

    registry = standard_operators()
    registry.register_value("double", lambda x: x * 2, min_args=1, max_args=1, emit=broken_emit)
    evaluate = compile_condition({"double": {"var": "n"}}, operators=registry, tier_up_after=1)
    with caplog.at_level(logging.WARNING, logger="rules_engine.conditions"):
        assert evaluate({"n": 21}) == 42
    assert evaluate({"n": 2}) == 4
    assert not hasattr(evaluate, "__source__")
    assert "code generation failed" in caplog.text and "$.double" in caplog.text


def test_conditions_with_side_effects_never_tier_up(caplog: pytest.LogCaptureFixture) -> None:
    evaluate = compile_condition({"log": {"var": "x"}}, tier_up_after=1)
    with caplog.at_level(logging.INFO, logger="rules_engine.conditions"):
        for _ in range(3):
            evaluate({"x": 1})
    assert not hasattr(evaluate, "__source__")
    assert len(caplog.records) == 3  # once per evaluation, never twice


@pytest.mark.parametrize("bad", [0, -1])
def test_the_threshold_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError, match="tier_up_after must be at least 1"):
        compile_condition(HOT, tier_up_after=bad)
