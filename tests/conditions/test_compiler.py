"""The compiler beyond conformance: JavaScript types in results, the specialised fast paths
(``in`` sets, constant folding, constant arrays), ``log``, data that is not an object, the
generated-code cache and fallback."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

from rules_engine.conditions import codegen as codegen_module
from rules_engine.conditions import compile_condition, standard_operators

BACKENDS = ["tiered", "codegen", "closures"]


def run(rule: Any, data: Any = None, backend: str = "codegen") -> Any:
    return compile_condition(rule, backend=backend)(data)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
class TestJavaScriptTypes:
    def test_bool_is_not_a_number(self, backend: str) -> None:
        assert run({"==": [1, True]}, backend=backend) is True
        assert run({"===": [{"var": "x"}, 1]}, {"x": True}, backend) is False
        assert run({"===": [{"var": "x"}, True]}, {"x": 1}, backend) is False
        assert run({"==": [{"var": "x"}, 2]}, {"x": True}, backend) is False

    def test_plus_uses_parse_float(self, backend: str) -> None:
        assert math.isnan(run({"+": [True, 1]}, backend=backend))
        assert math.isnan(run({"+": [{"var": "x"}, 1]}, {"x": None}, backend))
        assert run({"+": [{"var": "x"}, "2"]}, {"x": "1.5abc"}, backend) == 3.5

    def test_single_argument_multiply_returns_the_argument(self, backend: str) -> None:
        assert run({"*": [{"var": "x"}]}, {"x": "3"}, backend) == "3"

    def test_integer_arithmetic_stays_integer_and_rounds_like_doubles(self, backend: str) -> None:
        assert type(run({"+": [{"var": "a"}, {"var": "b"}]}, {"a": 1, "b": 2}, backend)) is int
        big = run({"*": [{"var": "a"}, {"var": "a"}]}, {"a": 2**40}, backend)
        assert big == float(2**80) and type(big) is float

    def test_negative_zero(self, backend: str) -> None:
        assert math.copysign(1, run({"-": [{"var": "a"}]}, {"a": 0}, backend)) == -1
        assert math.copysign(1, run({"%": [{"var": "a"}, 2]}, {"a": -4}, backend)) == -1
        assert run({"cat": [{"-": [{"var": "a"}]}]}, {"a": 0}, backend) == "0"

    def test_division_by_zero(self, backend: str) -> None:
        assert run({"/": [{"var": "a"}, 0]}, {"a": -1}, backend) == -math.inf
        assert math.isnan(run({"/": [{"var": "a"}, 0]}, {"a": 0}, backend))

    def test_number_to_string(self, backend: str) -> None:
        for value, text in [(21.0, "21"), (1e21, "1e+21"), (1e-7, "1e-7"), (0.1 + 0.2, "0.30000000000000004")]:
            assert run({"cat": [{"var": "x"}]}, {"x": value}, backend) == text

    def test_and_or_return_operands(self, backend: str) -> None:
        assert run({"and": [{"var": "a"}, {"var": "b"}]}, {"a": 1, "b": "x"}, backend) == "x"
        assert run({"or": [{"var": "a"}, {"var": "b"}]}, {"a": {}, "b": 1}, backend) == {}
        assert run({"and": [{"var": "a"}, 1]}, {"a": math.nan}, backend) != run({"and": [1, 1]})

    def test_empty_object_is_truthy_empty_array_falsy(self, backend: str) -> None:
        assert run({"!!": {"var": "a"}}, {"a": {}}, backend) is True
        assert run({"!!": {"var": "a"}}, {"a": []}, backend) is False


@pytest.mark.parametrize("backend", BACKENDS)
class TestInAndIdentity:
    @pytest.mark.parametrize(
        ("needle", "expected"),
        [(1, True), (1.0, True), (True, False), ("1", False), ("a", True), (None, False), (False, False)],
    )
    def test_in_constant_list_is_strict(self, backend: str, needle: Any, expected: bool) -> None:
        assert run({"in": [{"var": "x"}, [1, "a"]]}, {"x": needle}, backend) is expected

    def test_in_constant_list_with_booleans_and_null(self, backend: str) -> None:
        rule = {"in": [{"var": "x"}, [True, None, 2.5]]}
        assert [run(rule, {"x": x}, backend) for x in (1, True, None, 2.5, False)] == [False, True, True, True, False]

    def test_in_string_converts_the_needle(self, backend: str) -> None:
        assert run({"in": [{"var": "x"}, "a1b"]}, {"x": 1}, backend) is True
        assert run({"in": [{"var": "x"}, "xnullx"]}, {"x": None}, backend) is True
        assert run({"in": [{"var": "x"}, ""]}, {"x": ""}, backend) is False

    def test_arrays_compare_by_identity(self, backend: str) -> None:
        assert run({"===": [[1], [1]]}, backend=backend) is False
        assert run({"===": [{"var": "a"}, {"var": "a"}]}, {"a": [1]}, backend) is True
        assert run({"==": [{"var": "a"}, "1,2"]}, {"a": [1, 2]}, backend) is True

    def test_constant_arrays_are_fresh_each_time(self, backend: str) -> None:
        evaluate = compile_condition({"merge": [[1], [2]]}, backend=backend)  # type: ignore[arg-type]
        first = evaluate(None)
        first.append(99)
        assert evaluate(None) == [1, 2]
        nested = compile_condition({"if": [{"var": "x"}, [[1]], 0]}, backend=backend)  # type: ignore[arg-type]
        assert nested({"x": 1}) is not nested({"x": 1})
        assert nested({"x": 1})[0] is not nested({"x": 1})[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_log_goes_to_logging_not_stdout(
    backend: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rules_engine.conditions")
    evaluate = compile_condition({"log": {"var": "x"}}, backend=backend)  # type: ignore[arg-type]
    assert evaluate({"x": [1, "a"]}) == [1, "a"]
    assert evaluate({"x": 2}) == 2
    assert capsys.readouterr().out == ""
    assert [record.getMessage() for record in caplog.records] == ['jsonlogic log: [1, "a"]', "jsonlogic log: 2"]


def test_log_of_a_constant_is_not_folded(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="rules_engine.conditions")
    evaluate = compile_condition({"log": "hello"})
    assert not caplog.records  # nothing at load time
    evaluate({})
    evaluate({})
    assert len(caplog.records) == 2


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        ({"var": "1"}, ["a", "b"], "b"),
        ({"var": ""}, 7, 7),
        ({"var": "length"}, "héllo😀", 7),
        ({"var": "1"}, "a😀", "\ud83d"),
        ({"var": ["a", 5]}, None, 5),
        ({"some": [{"var": ""}, {">": [{"var": ""}, 2]}]}, [1, 3], True),
        ({"missing": ["a", "0"]}, ["x"], ["a"]),
    ],
)
def test_data_that_is_not_an_object(backend: str, rule: Any, data: Any, expected: Any) -> None:
    assert run(rule, data, backend) == expected


def test_var_paths_through_lists_and_strings() -> None:
    data = {"readings": [{"value": 1}, {"value": 2}], "name": "abc", "obj": {"0": "zero", "length": 9}}
    assert run({"var": "readings.1.value"}, data) == 2
    assert run({"var": "readings.01.value"}, data) is None
    assert run({"var": "readings.length"}, data) == 2
    assert run({"var": "name.length"}, data) == 3
    assert run({"var": "obj.0"}, data) == "zero"
    assert run({"var": "obj.length"}, data) == 9
    assert run({"var": ["readings.5.value", "none"]}, data) == "none"
    assert run({"var": ["readings.0.value", "none"]}, {"readings": [{"value": None}]}) is None
    assert run({"var": "obj.constructor"}, data) is None


def test_same_shape_shares_compiled_code() -> None:
    registry = standard_operators()
    first = compile_condition({">": [{"var": "decoded.temperature"}, 30]}, operators=registry, backend="codegen")
    second = compile_condition({">": [{"var": "decoded.humidity"}, 80]}, operators=registry, backend="codegen")
    assert first.__code__ is second.__code__
    assert len(registry.code_cache) == 1
    assert first({"decoded": {"temperature": 31, "humidity": 50}}) is True
    assert second({"decoded": {"temperature": 31, "humidity": 50}}) is False


def test_rule_text_never_reaches_the_generated_source() -> None:
    sneaky = "\"]) or __import__('os') or print('pwned') #"  # no '.': var splits paths on dots
    evaluate = compile_condition({"==": [{"var": f"a.{sneaky}"}, sneaky]}, backend="codegen")
    assert evaluate({"a": {sneaky: sneaky}}) is True
    assert "pwned" not in evaluate.__source__  # type: ignore[attr-defined]


def test_falls_back_to_closures_when_python_refuses_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise SyntaxError("too many statically nested blocks")

    monkeypatch.setattr(codegen_module, "compile", refuse, raising=False)
    evaluate = compile_condition({"<": [{"var": "x"}, 3]}, operators=standard_operators(), backend="codegen")
    assert not hasattr(evaluate, "__source__")
    assert evaluate({"x": 1}) is True
    assert evaluate({}) is True


def test_constant_subtrees_are_folded() -> None:
    evaluate = compile_condition({"if": [{"<": [1, 2]}, {"cat": ["a", 1]}, "no"]})
    assert evaluate.__code__.co_code == compile_condition("a1").__code__.co_code  # a constant function
    assert evaluate({}) == "a1"


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        compile_condition({"var": "x"}, backend="jit")  # type: ignore[arg-type]


# The generated code assumes objects along paths and numbers in numeric comparisons; anything else
# must either be exact in Python or raise, and then be evaluated by the closure backend.
OPTIMISTIC_CASES = [
    ({">": [{"var": "t"}, 30]}, {"t": "31"}, True),
    ({">": [{"var": "t"}, 30]}, {"t": "abc"}, False),
    ({">": [{"var": "t"}, 30]}, {"t": [31]}, True),
    ({">": [{"var": "t"}, 30]}, {"t": {}}, False),
    ({"<": [{"var": "t"}, 30]}, {"t": True}, True),
    ({"<": [{"var": "t"}, 30]}, {}, True),
    ({"<=": [10, {"var": "h"}, 80]}, {"h": None}, False),
    ({"<=": [-10, {"var": "h"}, 80]}, {}, True),
    ({"==": [{"var": "p"}, 2]}, {"p": "2"}, True),
    ({"==": [{"var": "p"}, 2]}, {"p": [2]}, True),
    ({"==": [{"var": "p"}, 1]}, {"p": True}, True),
    ({"===": [{"var": "p"}, 1]}, {"p": True}, False),
    ({"===": [{"var": "p"}, 0]}, {"p": False}, False),
    ({"===": [{"var": "p"}, 0]}, {"p": -0.0}, True),
    ({"!=": [{"var": "p"}, 2]}, {"p": " 2 "}, False),
    ({"==": [{"var": "s"}, "1"]}, {"s": True}, True),
    ({"==": [{"var": "s"}, "1"]}, {"s": [1]}, True),
    ({"==": [{"var": "s"}, ""]}, {"s": 0}, True),
    ({"==": [{"var": "s"}, "ok"]}, {"s": ["ok"]}, True),
    ({"==": [{"var": "s"}, "[object Object]"]}, {"s": {"a": 1}}, True),
    ({"in": [{"var": "x"}, ["a", 2]]}, {"x": [2]}, False),
    ({"in": [{"var": "x"}, ["a", 2]]}, {"x": 2.0}, True),
    ({"in": [{"var": "x"}, [0, "a"]]}, {"x": False}, False),
    ({"var": "a.b"}, {"a": [1, 2]}, None),
    ({"var": "a.length"}, {"a": []}, 0),
    ({"var": "a.b.length"}, {"a": {"b": ""}}, 0),
    ({"var": ["a.b", 7]}, {"a": 0}, 7),
    ({"var": "a.0"}, {"a": "xyz"}, "x"),
    ({"!": {"missing": ["decoded.gps"]}}, {"decoded": {"gps": {"lat": 1}}}, True),
    ({"some": [{"var": "r"}, {">": [{"var": "value"}, 2]}]}, {"r": [1, {"value": 3}]}, True),
    ({"var": "decoded"}, {"decoded": None}, None),
    ({"var": "decoded"}, {"decoded": {}}, {}),
]


@pytest.mark.parametrize(("rule", "data", "expected"), OPTIMISTIC_CASES)
def test_optimistic_fast_paths_are_exact(rule: Any, data: Any, expected: Any) -> None:
    compiled = compile_condition(rule, backend="codegen")
    assert hasattr(compiled, "__source__")
    result = compiled(data)
    assert result == expected and type(result) is type(expected)
    assert compile_condition(rule, backend="closures")(data) == expected


def test_the_shared_empty_object_never_escapes() -> None:
    from rules_engine.conditions.codegen import EMPTY

    evaluate = compile_condition({"if": [{"var": "decoded.x"}, {"var": "decoded"}, {"var": "uplink"}]}, backend="codegen")
    for data in ({}, {"decoded": None}, {"decoded": {"x": 1}}, {"uplink": {}}):
        assert evaluate(data) is not EMPTY
    assert EMPTY == {}


def test_conditions_with_side_effects_run_as_closures() -> None:
    for backend in ("tiered", "codegen"):
        logging_condition = compile_condition({"log": {"var": "x"}}, backend=backend, tier_up_after=1)  # type: ignore[arg-type]
        logging_condition({"x": 1})
        assert not hasattr(logging_condition, "__source__")
        assert hasattr(compile_condition({"var": "x"}, backend="codegen"), "__source__")
