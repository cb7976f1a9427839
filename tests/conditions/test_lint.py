"""The lint: the missing-compares-as-0 trap, its guards, unknown decoded fields, and the rest."""

from __future__ import annotations

from typing import Any

import pytest

from rules_engine.conditions import LintWarning, compile_condition, lint_condition

TEMPERATURE = {"var": "decoded.temperature"}
GUARD = {"!": {"missing": ["decoded.temperature"]}}
DECODER_FIELDS = {"decoded": {"temperature", "humidity", "battery", "gps.lat", "gps.lon", "readings"}}


def codes(rule: Any, **kwargs: Any) -> list[str]:
    return [warning.code for warning in lint_condition(rule, **kwargs)]


def test_trap_is_flagged_with_path_and_fix() -> None:
    (warning,) = lint_condition({"<": [TEMPERATURE, 30]})
    assert warning == LintWarning(warning.path, warning.message, "missing-compares-as-zero")
    assert warning.path == "$.<[0].var"
    assert "'decoded.temperature' compares as 0 when it is missing" in warning.message
    assert '{"!": {"missing": ["decoded.temperature"]}}' in warning.message
    assert str(warning).endswith("[missing-compares-as-zero]")


def test_the_trap_is_real() -> None:
    # What the lint warns about: true for an uplink without any temperature.
    assert compile_condition({"<": [TEMPERATURE, 30]})({"uplink": {"port": 2}}) is True


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_every_relational_operator(op: str) -> None:
    assert codes({op: [TEMPERATURE, 30]}) == ["missing-compares-as-zero"]
    assert codes({op: [30, TEMPERATURE]}) == ["missing-compares-as-zero"]


def test_between_form_is_flagged() -> None:
    assert codes({"<=": [10, {"var": "decoded.humidity"}, 80]}) == ["missing-compares-as-zero"]


@pytest.mark.parametrize(
    "rule",
    [
        {"and": [GUARD, {"<": [TEMPERATURE, 30]}]},
        {"and": [{"!": [{"missing": ["decoded.temperature"]}]}, {"<": [TEMPERATURE, 30]}]},
        {"and": [{"!": {"missing": ["decoded.humidity", "decoded.temperature"]}}, {"<": [TEMPERATURE, 30]}]},
        {"and": [{"!": {"missing": [["decoded.temperature"]]}}, {"<": [TEMPERATURE, 30]}]},
        {"and": [{"!": {"missing_some": [1, ["decoded.temperature"]]}}, {"<": [TEMPERATURE, 30]}]},
        {"and": [{"!!": TEMPERATURE}, {"<": [TEMPERATURE, 30]}]},
        {"and": [TEMPERATURE, {"<": [TEMPERATURE, 30]}]},
        {"and": [{"!=": [TEMPERATURE, None]}, {"<": [TEMPERATURE, 30]}]},
        {"and": [{"!==": [None, TEMPERATURE]}, {"<": [TEMPERATURE, 30]}]},
        {"and": [{"==": [{"var": "decoded.temperature"}, 20]}, {"<": [TEMPERATURE, 30]}]},
        {"and": [GUARD, {"or": [{"<": [TEMPERATURE, 0]}, {">": [TEMPERATURE, 40]}]}]},
        {"and": [{"and": [{"var": "uplink.port"}, GUARD]}, {"<": [TEMPERATURE, 30]}]},
        {"or": [{"missing": ["decoded.temperature"]}, {"<": [TEMPERATURE, 30]}]},
        {"if": [GUARD, {"<": [TEMPERATURE, 30]}, False]},
        {"if": [{"missing": ["decoded.temperature"]}, False, {"<": [TEMPERATURE, 30]}]},
        {"?:": [{"missing": "decoded.temperature"}, False, {"<": [TEMPERATURE, 30]}]},
        {"<": [{"var": ["decoded.temperature", 0]}, 30]},
        {"<": [{"var": ["decoded.temperature", {"var": "device.default"}]}, 30]},
    ],
)
def test_guarded_or_defaulted_forms_are_not_flagged(rule: Any) -> None:
    assert codes(rule) == []
    compile_condition(rule)  # every form is a valid condition


@pytest.mark.parametrize(
    "rule",
    [
        {"and": [{"<": [TEMPERATURE, 30]}, GUARD]},  # guard after the comparison
        {"and": [{"!": {"missing": ["decoded"]}}, {"<": [TEMPERATURE, 30]}]},  # another path
        {"or": [GUARD, {"<": [TEMPERATURE, 30]}]},  # reached when the guard is false
        {"if": [GUARD, False, {"<": [TEMPERATURE, 30]}]},  # the else-branch is unguarded
        {"and": [{"missing": ["decoded.temperature"]}, {"<": [TEMPERATURE, 30]}]},  # not negated
        {"<": [{"var": ["decoded.temperature", None]}, 30]},  # a null default is no default
        {"and": [{"!": {"missing_some": [1, ["decoded.temperature", "decoded.humidity"]]}}, {"<": [TEMPERATURE, 30]}]},
    ],
)
def test_insufficient_guards_are_flagged(rule: Any) -> None:
    assert codes(rule) == ["missing-compares-as-zero"]


def test_guards_inside_scoped_logic_use_the_element() -> None:
    rule = {"some": [{"var": "decoded.readings"}, {">": [{"var": "value"}, 50]}]}
    (warning,) = lint_condition(rule)
    assert warning.path == "$.some[1].>[0].var"
    element_guard = {"and": [{"!": {"missing": ["value"]}}, {"<": [{"var": "value"}, 9]}]}
    guarded = {"all": [{"var": "decoded.readings"}, element_guard]}
    assert lint_condition(guarded) == []
    # A guard on the outer data does not carry into the element scope.
    outer = {"and": [{"!": {"missing": ["value"]}}, {"some": [{"var": "r"}, {">": [{"var": "value"}, 1]}]}]}
    assert codes(outer) == ["missing-compares-as-zero"]


@pytest.mark.parametrize(
    ("op", "effect"),
    [("-", "as if it were 0"), ("/", "as if it were 0"), ("+", "NaN"), ("*", "NaN"), ("max", "0"), ("%", "0")],
)
def test_arithmetic_is_flagged(op: str, effect: str) -> None:
    (warning,) = lint_condition({op: [{"var": "decoded.total"}, 2]})
    assert warning.code == "missing-in-arithmetic"
    assert effect in warning.message


def test_unknown_decoded_field_with_did_you_mean() -> None:
    (warning,) = lint_condition({">": [{"var": ["decoded.temprature", 0]}, 30]}, known_fields=DECODER_FIELDS)
    assert warning.code == "unknown-field"
    assert warning.path == "$.>[0].var"
    assert warning.message == "unknown field 'decoded.temprature' (did you mean 'decoded.temperature'?)"


@pytest.mark.parametrize(
    "path",
    ["decoded", "decoded.temperature", "decoded.gps", "decoded.gps.lat", "decoded.readings.0.value", "uplink.whatever"],
)
def test_known_fields_accepted(path: str) -> None:
    assert lint_condition({"var": path}, known_fields=DECODER_FIELDS) == []


def test_unknown_fields_in_missing_keys_and_misspelled_roots() -> None:
    found = lint_condition({"!": {"missing": ["decoded.humdity", "decodd.battery"]}}, known_fields=DECODER_FIELDS)
    assert [(w.path, w.message) for w in found] == [
        ("$.!.missing", "unknown field 'decoded.humdity' (did you mean 'decoded.humidity'?)"),
        ("$.!.missing", "unknown field 'decodd.battery' (did you mean 'decoded.battery'?)"),
    ]
    assert codes({"var": "decoded.gps.lon"}, known_fields=DECODER_FIELDS) == []
    assert codes({"var": "decoded.gps.alt"}, known_fields=DECODER_FIELDS) == ["unknown-field"]


def test_scoped_paths_are_not_checked_against_known_fields() -> None:
    rule = {"some": [{"var": "decoded.readings"}, {"==": [{"var": "valeu"}, 1]}]}
    assert lint_condition(rule, known_fields=DECODER_FIELDS) == []


def test_array_identity_and_empty_segments() -> None:
    assert codes({"===": [{"var": "decoded.flags"}, ["alarm"]]}) == ["array-identity"]
    assert "always true" in lint_condition({"!==": [[1], {"var": "x"}]})[0].message
    assert codes({"==": [{"var": "decoded..status"}, "ok"]}) == ["empty-path-segment"]
    assert codes({"==": [{"var": "decoded.status."}, "ok"]}) == ["empty-path-segment"]


@pytest.mark.parametrize(
    "rule", [None, 3, "x", [], {}, {"a": 1, "b": 2}, {"<": 1}, {"var": []}, {"missing": [None]}, {"if": []}]
)
def test_lint_never_raises(rule: Any) -> None:
    assert isinstance(lint_condition(rule), list)
