"""The payload builder: values and expressions, scale/add, enums, bit fields, errors, describe."""

from __future__ import annotations

from typing import Any

import pytest

from rules_engine.codec import (
    FieldTypeRegistry,
    PayloadBuilder,
    PayloadError,
    PayloadSpec,
    compile_payload,
    compile_struct,
)
from rules_engine.errors import RulesEngineError

SEQ_THEN_COMMAND = {
    "fields": [
        {"name": "seq", "type": "u32_be", "expr": {"var": "send.seq"}},
        {"name": "command", "type": "u8", "value": 1},
    ]
}


@pytest.fixture
def build(field_types: FieldTypeRegistry, compile_expr: Any) -> Any:
    def make(*fields: dict[str, Any]) -> PayloadBuilder:
        return compile_payload({"fields": list(fields)}, field_types, compile_expr)

    return make


def test_sequence_number_then_command_byte(field_types: FieldTypeRegistry, compile_expr: Any) -> None:
    builder = compile_payload(SEQ_THEN_COMMAND, field_types, compile_expr)
    assert builder.build({"send": {"seq": 42}}) == bytes.fromhex("0000002A01")
    assert builder.build({"send": {"seq": 2**32 - 1}}) == bytes.fromhex("FFFFFFFF01")
    assert builder.length == 5


def test_a_spec_model_compiles_too(field_types: FieldTypeRegistry, compile_expr: Any) -> None:
    spec = PayloadSpec.model_validate(SEQ_THEN_COMMAND)
    builder = compile_payload(spec, field_types, compile_expr)
    assert builder.spec is spec and builder.build({"send": {"seq": 1}}) == bytes.fromhex("0000000101")


def test_scale_and_add_are_inverted(build: Any) -> None:
    builder = build(
        {"name": "setpoint", "type": "i16_be", "scale": 0.1, "expr": {"var": "sp"}},
        {"name": "celsius", "type": "u8", "add": -40, "expr": {"var": "c"}},
        {"name": "both", "type": "u8", "scale": 0.5, "add": -20, "expr": {"var": "b"}},
        {"name": "f", "type": "float32_be", "scale": 1000, "expr": {"var": "f"}},
    )
    assert builder.build({"sp": -21.5, "c": 20, "b": -15.0, "f": 1500}) == bytes.fromhex("FF29 3C 0A 3FC00000")


def test_float_into_int_rounds_half_to_even(build: Any) -> None:
    builder = build({"name": "x", "type": "u8", "expr": {"var": "x"}})
    assert [builder.build({"x": v})[0] for v in (2.5, 3.5, 2.4999, 2.6, 7.0)] == [2, 4, 2, 3, 7]
    tenths = build({"name": "x", "type": "u16_be", "scale": 0.1, "expr": {"var": "x"}})
    assert tenths.build({"x": 21.55}) == (216).to_bytes(2, "big")  # 215.5 -> 216 (even)
    assert tenths.build({"x": 0.3}) == (3).to_bytes(2, "big")


def test_booleans_pack_into_integers_and_bool(build: Any) -> None:
    builder = build({"type": "u8", "expr": {"var": "a"}}, {"type": "bool", "expr": {"var": "b"}})
    assert builder.build({"a": True, "b": False}) == b"\x01\x00"
    assert builder.build({"a": 0, "b": 1}) == b"\x00\x01"
    with pytest.raises(PayloadError, match=r"fields\[1\] \(bool\) value 2: expected true/false"):
        builder.build({"a": 0, "b": 2})


def test_enum_labels_pack_as_their_raw_value(build: Any) -> None:
    builder = build({"name": "mode", "type": "u8", "enum": {0: "off", 1: "heat", 2: "cool"}, "expr": {"var": "m"}})
    assert builder.build({"m": "cool"}) == b"\x02"
    assert builder.build({"m": 1}) == b"\x01"
    with pytest.raises(PayloadError) as info:
        builder.build({"m": "fan"})
    assert "fields[0] 'mode' (u8) value 'fan': 'fan' is not a label of the enum ['cool', 'heat', 'off']" == str(info.value)


def test_bit_fields_pack_into_one_word(build: Any) -> None:
    builder = build(
        {"name": "kind", "type": "u8", "value": 1},
        {"name": "alarm", "type": "u8", "bits": 7, "expr": {"var": "alarm"}},
        {"name": "mode", "type": "u8", "bits": "4-6", "value": 2},
        {"name": "level", "type": "u8", "bits": "0-3", "expr": {"var": "level"}},
        {"name": "count", "type": "u16_be", "value": 1},
    )
    assert builder.build({"alarm": True, "level": 5}) == bytes.fromhex("01A50001")
    assert builder.build({"alarm": False, "level": 0}) == bytes.fromhex("01200001")


def test_signed_bit_fields_and_words(build: Any) -> None:
    builder = build(
        {"name": "x", "type": "i16_be", "bits": "0-11", "expr": {"var": "x"}},
        {"name": "flags", "type": "i16_be", "bits": "12-15", "expr": {"var": "f"}},
    )
    assert builder.build({"x": -1, "f": 7}) == bytes.fromhex("7FFF")
    assert builder.build({"x": -2048, "f": -8}) == bytes.fromhex("8800")
    with pytest.raises(PayloadError, match=r"out of range for bits 0-11 of i16_be \(-2048..2047\)"):
        builder.build({"x": 2048, "f": 0})


def test_offsets_leave_zero_gaps(build: Any) -> None:
    builder = build({"type": "u8", "value": 0xAA, "offset": 3}, {"type": "u8", "value": 0xBB, "offset": 0})
    assert builder.build({}) == bytes.fromhex("BB0000AA")


def test_bytes_and_text(build: Any) -> None:
    builder = build(
        {"name": "magic", "type": "bytes", "value": "cafe"},  # length inferred from the constant
        {"name": "id", "type": "bytes", "length": 2, "expr": {"var": "id"}},
        {"name": "tag", "type": "ascii", "length": 4, "expr": {"var": "tag"}},
        {"name": "unit", "type": "utf8", "value": "\u00b0C"},
    )
    assert builder.build({"id": "0102", "tag": "ab"}) == bytes.fromhex("CAFE 0102 61620000") + "\u00b0C".encode()
    assert builder.build({"id": b"\x01\x02", "tag": "abcd"})[4:8] == b"abcd"
    assert builder.build({"id": [1, 2], "tag": ""})[2:4] == b"\x01\x02"
    with pytest.raises(PayloadError, match=r"fields\[1\] 'id' \(bytes\) value '010203': 3 bytes given, the field holds exactly 2"):
        builder.build({"id": "010203", "tag": "ab"})
    with pytest.raises(PayloadError, match=r"fields\[2\] 'tag' \(ascii\) value 'abcde': 5 bytes of ascii text, the field holds at most 4"):
        builder.build({"id": "0102", "tag": "abcde"})
    with pytest.raises(PayloadError, match="is not ascii text"):
        builder.build({"id": "0102", "tag": "\u00e9"})
    with pytest.raises(PayloadError, match=r"expected text \(quote it in YAML\), got int 5"):
        builder.build({"id": "0102", "tag": 5})


def test_range_error_names_index_name_and_value(build: Any) -> None:
    builder = build({"type": "u8", "value": 1}, {"name": "setpoint", "type": "u8", "expr": {"var": "decoded.sp"}})
    with pytest.raises(PayloadError) as info:
        builder.build({"decoded": {"sp": 300}})
    assert str(info.value) == "fields[1] 'setpoint' (u8) value 300: 300 is out of range for u8 (0..255)"
    assert (info.value.index, info.value.name, info.value.value) == (1, "setpoint", 300)
    assert isinstance(info.value, RulesEngineError)


def test_scaled_range_error_shows_the_scaled_value(build: Any) -> None:
    builder = build({"name": "sp", "type": "u8", "scale": 0.1, "expr": {"var": "sp"}})
    with pytest.raises(PayloadError, match=r"value 30: 30 \(scaled: 300\) is out of range for u8 \(0..255\)"):
        builder.build({"sp": 30})


@pytest.mark.parametrize(("value", "message"), [
    ("12", "expected a number, got str '12'"),
    (None, "expected a number, got null"),
    ([1], "expected a number, got list"),
])
def test_non_numeric_values(build: Any, value: Any, message: str) -> None:
    builder = build({"name": "n", "type": "i32_le", "expr": {"var": "n"}})
    with pytest.raises(PayloadError, match=message):
        builder.build({"n": value})


def test_missing_variable_is_named(build: Any) -> None:
    builder = build({"name": "seq", "type": "u32_be", "expr": {"var": "send.seq"}})
    with pytest.raises(PayloadError, match=r"fields\[0\] 'seq' \(u32_be\) value None: .*null \(is the variable missing"):
        builder.build({"send": {}})


def test_bool_into_float_is_rejected(build: Any) -> None:
    with pytest.raises(PayloadError, match="expected a number, got a boolean"):
        build({"type": "float64_le", "expr": {"var": "x"}}).build({"x": True})


def test_a_failing_expression_is_wrapped(field_types: FieldTypeRegistry) -> None:
    def compile_expr(_expr: Any) -> Any:
        def evaluate(_data: Any) -> Any:
            raise ZeroDivisionError("division by zero")

        return evaluate

    builder = compile_payload({"fields": [{"name": "q", "type": "u8", "expr": {"/": [1, 0]}}]}, field_types, compile_expr)
    with pytest.raises(PayloadError, match=r"fields\[0\] 'q' \(u8\): the expression failed: division by zero") as info:
        builder.build({})
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_describe_reports_each_field(build: Any) -> None:
    builder = build(
        {"name": "seq", "type": "u32_be", "expr": {"var": "send.seq"}},
        {"name": "alarm", "type": "u8", "bits": 7, "value": 1},
        {"name": "level", "type": "u8", "bits": "0-3", "expr": {"var": "level"}},
        {"type": "i16_le", "scale": 0.1, "expr": {"var": "sp"}},
    )
    context = {"send": {"seq": 42}, "level": 5, "sp": -21.5}
    description = builder.describe(context)
    assert description.payload == builder.build(context) == bytes.fromhex("0000002A 85 29FF")
    assert description.hex == "0000002A8529FF"
    assert len(description) == 4 and list(description) == list(description.fields)
    rows = [(f.index, f.name, f.type, f.offset, f.size, f.bits, f.source, f.value, f.raw, f.hex) for f in description]
    assert rows == [
        (0, "seq", "u32_be", 0, 4, None, "expr", 42, 42, "0000002A"),
        (1, "alarm", "u8", 4, 1, "7", "value", 1, 1, "80"),
        (2, "level", "u8", 4, 1, "0-3", "expr", 5, 5, "05"),
        (3, None, "i16_le", 5, 2, None, "expr", -21.5, -215, "29FF"),
    ]
    text = description.format()
    assert "seq" in text and "0000002A" in text and "0-3" in text and text.endswith("payload 0000002A8529FF (7 bytes)")


def test_describe_raises_like_build(build: Any) -> None:
    builder = build({"name": "x", "type": "u8", "expr": {"var": "x"}})
    with pytest.raises(PayloadError, match="out of range"):
        builder.describe({"x": -1})


def test_payload_mirrors_struct(field_types: FieldTypeRegistry, compile_expr: Any) -> None:
    """The same field list, with names as variables, decodes back to the values built."""
    fields: list[dict[str, Any]] = [
        {"name": "kind", "type": "u8"},
        {"name": "alarm", "type": "u8", "bits": 7},
        {"name": "mode", "type": "u8", "bits": "4-6", "enum": {0: "off", 2: "heat"}},
        {"name": "temperature", "type": "i16_be", "scale": 0.01},
        {"name": "battery", "type": "u16_le", "add": 2000},
        {"name": "serial", "type": "bytes", "length": 3, "offset": 8},
    ]
    decoder = compile_struct({"fields": fields}, field_types)
    builder = compile_payload({"fields": [{**f, "expr": {"var": f["name"]}} for f in fields]}, field_types, compile_expr)
    values = {"kind": 1, "alarm": 1, "mode": "heat", "temperature": 60.52, "battery": 3103, "serial": "0A0B0C"}
    assert decoder.decode(builder.build(values)) == values


def test_with_the_real_condition_compiler(field_types: FieldTypeRegistry) -> None:
    try:
        from rules_engine.conditions import compile_condition
    except ImportError as exc:
        pytest.skip(f"rules_engine.conditions.compile_condition is not importable yet: {exc}")
    spec = {
        "fields": [
            {"name": "seq", "type": "u32_be", "expr": {"var": "send.seq"}},
            {"name": "setpoint", "type": "u16_be", "expr": {"*": [{"var": "decoded.setpoint"}, 10]}},
            {"name": "command", "type": "u8", "value": 1},
        ]
    }
    builder = compile_payload(spec, field_types, compile_condition)
    assert builder.build({"send": {"seq": 42}, "decoded": {"setpoint": 21.5}}) == bytes.fromhex("0000002A 00D7 01")
