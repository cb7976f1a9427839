"""Broken specs: every message names the field (index and name) and says what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from rules_engine.codec import CodecSpecError, FieldTypeRegistry, StructSpec, compile_payload, compile_struct
from rules_engine.errors import RulesEngineError

OK = {"name": "ok", "type": "u8"}

# (id, the broken field placed at index 1 after a valid field, substrings of the message)
BROKEN_STRUCT_FIELDS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("unknown-type", {"name": "temp", "type": "i16be"}, ["unknown type 'i16be'", "did you mean 'i16_be'"]),
    ("c-style-type", {"name": "temp", "type": "uint16"}, ["unknown type 'uint16'", "'u16_be'", "'u16_le'"]),
    ("bits-outside-width", {"name": "temp", "type": "u8", "bits": "4-8"}, ["bits 4-8 are outside 'u8'", "0-7"]),
    ("bits-on-float", {"name": "temp", "type": "float32_be", "bits": 3}, ["bits apply to integer types only", "float32_be"]),
    ("bits-syntax", {"name": "temp", "type": "u8", "bits": "0..3"}, ["bits must be a bit number like 7", "'0..3'"]),
    ("bits-reversed", {"name": "temp", "type": "u8", "bits": "7-4"}, ["write the low bit first", "4-7"]),
    ("enum-on-float", {"name": "temp", "type": "float64_le", "enum": {1: "one"}}, ["enum applies to integer types only"]),
    ("scale-on-bytes", {"name": "temp", "type": "bytes", "length": 2, "scale": 2}, ["scale applies to numeric types only", "'bytes'"]),
    ("add-on-text", {"name": "temp", "type": "ascii", "length": 2, "add": 1}, ["add applies to numeric types only"]),
    ("bytes-without-length", {"name": "temp", "type": "bytes"}, ["type 'bytes' needs a length"]),
    ("length-on-int", {"name": "temp", "type": "u16_be", "length": 2}, ["length applies to bytes/ascii/utf8 only"]),
    ("overlap", {"name": "temp", "type": "u16_be", "offset": 0}, ["bytes 0-1 overlap bytes 0-0 of fields[0] 'ok'"]),
    ("scale-zero", {"name": "temp", "type": "u8", "scale": 0}, ["scale must be a finite nonzero number"]),
    ("enum-with-scale", {"name": "temp", "type": "u8", "enum": {1: "a"}, "scale": 2}, ["cannot be combined with scale"]),
    ("unknown-without-enum", {"name": "temp", "type": "u8", "unknown": "other"}, ["it needs an enum"]),
    ("duplicate-enum-label", {"name": "temp", "type": "u8", "enum": {1: "a", 2: "a"}}, ["enum labels must be unique", "'a'"]),
    ("name-with-dot", {"name": "temp.c", "type": "u8"}, ["name must be an identifier"]),
    ("duplicate-name", {"name": "ok", "type": "u8"}, ["the name is already used by fields[0]"]),
    ("unknown-option", {"name": "temp", "type": "u8", "scael": 2}, ["unknown option 'scael'", "did you mean 'scale'"]),
    ("payload-option-in-struct", {"name": "temp", "type": "u8", "value": 1}, ["unknown option 'value'", "payload (build) fields"]),
    ("scale-not-a-number", {"name": "temp", "type": "u8", "scale": "x"}, ["scale:", "'x'"]),
    ("negative-offset", {"name": "temp", "type": "u8", "offset": -1}, ["offset:", "-1"]),
    ("offset-as-bool", {"name": "temp", "type": "u8", "offset": True}, ["offset:", "True"]),
    ("optional-not-bool", {"name": "temp", "type": "u8", "optional": "yes"}, ["optional:", "'yes'"]),
]


@pytest.mark.parametrize(("broken", "expected"), [(b, e) for _id, b, e in BROKEN_STRUCT_FIELDS],
                         ids=[i for i, _b, _e in BROKEN_STRUCT_FIELDS])
def test_broken_struct_field_is_named(field_types: FieldTypeRegistry, broken: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(CodecSpecError) as info:
        compile_struct({"fields": [OK, broken]}, field_types)
    message = str(info.value)
    name = broken["name"]
    assert f"fields[1] {name!r}" in message, message
    for part in expected:
        assert part in message, message
    assert info.value.index == 1 and info.value.name == name
    assert isinstance(info.value, RulesEngineError)


def test_overlapping_bit_ranges(field_types: FieldTypeRegistry) -> None:
    with pytest.raises(CodecSpecError) as info:
        compile_struct({"fields": [{"name": "a", "type": "u8", "bits": "0-3"}, {"name": "b", "type": "u8", "bits": "3-5"}]},
                       field_types)
    assert str(info.value).startswith("fields[1] 'b': bits 3-5 overlap bits 0-3 of fields[0] 'a'")
    assert "give this field an offset" in str(info.value)


def test_bit_fields_of_different_types_cannot_share_bytes(field_types: FieldTypeRegistry) -> None:
    with pytest.raises(CodecSpecError) as info:
        compile_struct(
            {"fields": [{"name": "a", "type": "u8", "bits": "0-3"}, {"name": "b", "type": "u16_be", "bits": "8-9", "offset": 0}]},
            field_types,
        )
    assert "fields[1] 'b'" in str(info.value) and "same offset and the same type" in str(info.value)


def test_spec_level_errors(field_types: FieldTypeRegistry) -> None:
    with pytest.raises(CodecSpecError, match="struct spec: fields is required"):
        compile_struct({}, field_types)
    with pytest.raises(CodecSpecError, match="at least 1 item"):
        compile_struct({"fields": []}, field_types)
    with pytest.raises(CodecSpecError, match="a struct spec is a mapping"):
        compile_struct([OK], field_types)  # type: ignore[arg-type]
    with pytest.raises(CodecSpecError, match=r"fields\[0\] \(u8\): name is required"):
        compile_struct({"fields": [{"type": "u8"}]}, field_types)


def test_pydantic_errors_name_the_field_too() -> None:
    """Validated directly (as the rule loader will, nested in a rule), the location and name show."""
    with pytest.raises(ValidationError) as info:
        StructSpec.model_validate({"fields": [OK, {"name": "flags", "type": "u8", "bits": "x"}]})
    text = str(info.value)
    assert "fields.1" in text and "field 'flags': bits must be" in text


# Payload specs: (broken field at index 1, substrings)
BROKEN_PAYLOAD_FIELDS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("no-value-no-expr", {"name": "cmd", "type": "u8"}, ["give a value (a constant) or an expr"]),
    ("value-and-expr", {"name": "cmd", "type": "u8", "value": 1, "expr": {"var": "a"}}, ["either value or expr, not both"]),
    ("constant-out-of-range", {"name": "cmd", "type": "u8", "value": 300}, ["value 300", "out of range for u8 (0..255)"]),
    ("constant-not-a-number", {"name": "cmd", "type": "u16_be", "value": "12"}, ["expected a number, got str '12'"]),
    ("constant-bad-hex", {"name": "cmd", "type": "bytes", "value": "XYZ"}, ["'XYZ' is not a hex string"]),
    ("constant-not-ascii", {"name": "cmd", "type": "ascii", "value": "\u00e9t\u00e9"}, ["is not ascii text"]),
    ("constant-bits-too-wide", {"name": "cmd", "type": "u8", "bits": "0-2", "value": 8}, ["out of range for bits 0-2 of u8 (0..7)"]),
    ("unknown-enum-label", {"name": "cmd", "type": "u8", "enum": {1: "on"}, "value": "of"}, ["'of' is not a label"]),
    ("expr-rejected", {"name": "cmd", "type": "u8", "expr": {"+": [1, 2]}}, ["invalid expr", "only knows var"]),
    ("expr-bytes-without-length", {"name": "cmd", "type": "bytes", "expr": {"var": "x"}}, ["needs a length"]),
    ("unknown-type", {"name": "cmd", "type": "unit8", "value": 1}, ["unknown type 'unit8'", "'u8'"]),
    ("value-null", {"name": "cmd", "type": "u8", "value": None}, ["value must not be null"]),
    ("struct-option-in-payload", {"name": "cmd", "type": "u8", "value": 1, "optional": True},
     ["unknown option 'optional'", "struct (decode) fields"]),
    ("value-not-a-constant", {"name": "cmd", "type": "u8", "value": {"var": "x"}}, ["value:", "{'var': 'x'}"]),
]


@pytest.mark.parametrize(("broken", "expected"), [(b, e) for _id, b, e in BROKEN_PAYLOAD_FIELDS],
                         ids=[i for i, _b, _e in BROKEN_PAYLOAD_FIELDS])
def test_broken_payload_field_is_named(field_types: FieldTypeRegistry, compile_expr: Any, broken: dict[str, Any],
                                       expected: list[str]) -> None:
    with pytest.raises(CodecSpecError) as info:
        compile_payload({"fields": [{"type": "u8", "value": 1}, broken]}, field_types, compile_expr)
    message = str(info.value)
    assert "fields[1] 'cmd'" in message, message
    for part in expected:
        assert part in message, message
    assert info.value.index == 1 and info.value.name == "cmd"


def test_unnamed_payload_fields_are_labelled_by_type(field_types: FieldTypeRegistry, compile_expr: Any) -> None:
    with pytest.raises(CodecSpecError) as info:
        compile_payload({"fields": [{"type": "u8", "value": 256}]}, field_types, compile_expr)
    assert str(info.value) == "fields[0] (u8) value 256: 256 is out of range for u8 (0..255)"
    assert info.value.index == 0 and info.value.name is None


def test_expr_compiler_returning_a_non_function(field_types: FieldTypeRegistry) -> None:
    with pytest.raises(CodecSpecError, match=r"fields\[0\] 'x': the expression compiler returned 5"):
        compile_payload({"fields": [{"name": "x", "type": "u8", "expr": {"var": "a"}}]}, field_types, lambda _e: 5)  # type: ignore[arg-type,return-value]
