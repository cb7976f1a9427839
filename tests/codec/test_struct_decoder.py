"""The struct decoder: layout, bit fields, scale/add, enums, optional fields, short payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rules_engine.codec import DecodeError, FieldTypeRegistry, StructDecoder, StructSpec, compile_struct
from rules_engine.conductor import _wire
from rules_engine.errors import RulesEngineError

EXAMPLES = json.loads((Path(__file__).parent.parent / "fixtures" / "conductor" / "examples.json").read_text())


def struct(field_types: FieldTypeRegistry, *fields: dict[str, Any]) -> StructDecoder:
    return compile_struct({"fields": list(fields)}, field_types)


# --- layout ---------------------------------------------------------------------------------


def test_fields_follow_in_sequence(field_types: FieldTypeRegistry) -> None:
    decoder = struct(field_types, {"name": "a", "type": "u8"}, {"name": "b", "type": "u16_le"}, {"name": "c", "type": "u8"})
    assert decoder.decode(bytes.fromhex("01 0302 04")) == {"a": 1, "b": 0x0203, "c": 4}
    assert decoder.length == decoder.min_length == 4


def test_explicit_offsets_leave_gaps_and_any_order(field_types: FieldTypeRegistry) -> None:
    decoder = struct(
        field_types,
        {"name": "tail", "type": "u8", "offset": 5},
        {"name": "head", "type": "u16_be", "offset": 0},
        {"name": "after_head", "type": "u8"},  # follows the previous field: offset 2
    )
    assert decoder.decode(bytes.fromhex("0A0B 0C 0000 0D")) == {"head": 0x0A0B, "after_head": 0x0C, "tail": 0x0D}


def test_trailing_bytes_are_ignored(field_types: FieldTypeRegistry) -> None:
    decoder = struct(field_types, {"name": "a", "type": "u8"})
    assert decoder.decode(bytes.fromhex("01FFFF")) == {"a": 1}


def test_decode_accepts_any_bytes_like(field_types: FieldTypeRegistry) -> None:
    decoder = struct(field_types, {"name": "a", "type": "u16_be"}, {"name": "b", "type": "u24_be"})
    assert decoder.decode(bytearray(b"\x00\x01\x00\x00\x02")) == {"a": 1, "b": 2}
    assert decoder.decode(memoryview(b"\x00\x01\x00\x00\x02")) == {"a": 1, "b": 2}


def test_fields_lists_declared_names(field_types: FieldTypeRegistry) -> None:
    decoder = struct(field_types, {"name": "a", "type": "u8"}, {"name": "b", "type": "u8", "optional": True})
    assert decoder.fields == frozenset({"a", "b"})
    assert decoder.exhaustive is True


# --- bit fields -----------------------------------------------------------------------------


def test_bit_fields_share_a_byte_by_offset(field_types: FieldTypeRegistry) -> None:
    decoder = struct(
        field_types,
        {"name": "alarm", "type": "u8", "offset": 0, "bits": 7},
        {"name": "mode", "type": "u8", "offset": 0, "bits": "4-6"},
        {"name": "level", "type": "u8", "offset": 0, "bits": "0-3"},
        {"name": "next", "type": "u8"},
    )
    assert decoder.decode(bytes.fromhex("A5 09")) == {"alarm": 1, "mode": 2, "level": 5, "next": 9}


def test_consecutive_bit_fields_of_one_type_share_a_word(field_types: FieldTypeRegistry) -> None:
    decoder = struct(
        field_types,
        {"name": "kind", "type": "u8"},
        {"name": "alarm", "type": "u8", "bits": 7},
        {"name": "level", "type": "u8", "bits": "0-3"},
        {"name": "hi", "type": "u8", "bits": "4-7", "offset": 2},  # a new word needs an offset
        {"name": "lo", "type": "u8", "bits": "0-3"},
        {"name": "temp", "type": "i16_be"},
    )
    assert decoder.decode(bytes.fromhex("01 85 3C FFFE")) == {
        "kind": 1, "alarm": 1, "level": 5, "hi": 3, "lo": 12, "temp": -2,
    }


def test_bits_count_from_the_lsb_of_the_unpacked_integer(field_types: FieldTypeRegistry) -> None:
    be = struct(field_types, {"name": "low", "type": "u16_be", "bits": "0-3"}, {"name": "top", "type": "u16_be", "bits": 15})
    le = struct(field_types, {"name": "low", "type": "u16_le", "bits": "0-3"}, {"name": "top", "type": "u16_le", "bits": 15})
    assert be.decode(bytes.fromhex("8007")) == {"low": 7, "top": 1}
    assert le.decode(bytes.fromhex("0780")) == {"low": 7, "top": 1}


def test_bit_fields_of_signed_types_are_sign_extended(field_types: FieldTypeRegistry) -> None:
    decoder = struct(
        field_types,
        {"name": "x", "type": "i16_be", "bits": "0-11"},
        {"name": "flags", "type": "i16_be", "bits": "12-15"},
    )
    assert decoder.decode(bytes.fromhex("7FFF")) == {"x": -1, "flags": 7}
    assert decoder.decode(bytes.fromhex("8800")) == {"x": -2048, "flags": -8}


def test_bit_field_with_enum_and_scale(field_types: FieldTypeRegistry) -> None:
    decoder = struct(
        field_types,
        {"name": "state", "type": "u8", "bits": "6-7", "enum": {0: "idle", 1: "run", 2: "fault"}},
        {"name": "half_degrees", "type": "u8", "bits": "0-5", "scale": 0.5},
    )
    assert decoder.decode(bytes.fromhex("4B")) == {"state": "run", "half_degrees": 5.5}


# --- scale, add, enum -----------------------------------------------------------------------


def test_scale_and_add(field_types: FieldTypeRegistry) -> None:
    decoder = struct(
        field_types,
        {"name": "t", "type": "i16_be", "scale": 0.01},
        {"name": "doubled", "type": "u8", "scale": 2},
        {"name": "celsius", "type": "u8", "add": -40},
        {"name": "both", "type": "u8", "scale": 0.5, "add": -20},
        {"name": "tenths", "type": "u8", "scale": 0.1},
        {"name": "neg", "type": "u8", "scale": -1},
    )
    decoded = decoder.decode(bytes.fromhex("17A4 15 3C 0A 03 05"))
    assert decoded == {"t": 60.52, "doubled": 42, "celsius": 20, "both": -15.0, "tenths": 0.3, "neg": -5}
    assert type(decoded["doubled"]) is int and type(decoded["celsius"]) is int and type(decoded["t"]) is float


def test_scale_on_floats(field_types: FieldTypeRegistry) -> None:
    decoder = struct(field_types, {"name": "v", "type": "float32_be", "scale": 1000, "add": 1})
    assert decoder.decode(bytes.fromhex("3FC00000")) == {"v": 1501.0}


def test_enum_known_unknown_and_unknown_label(field_types: FieldTypeRegistry) -> None:
    keep = struct(field_types, {"name": "m", "type": "u8", "enum": {0: "off", 1: "heat"}})
    label = struct(field_types, {"name": "m", "type": "u8", "enum": {0: "off", 1: "heat"}, "unknown": "other"})
    assert keep.decode(b"\x01") == {"m": "heat"}
    assert keep.decode(b"\x07") == {"m": 7}
    assert label.decode(b"\x07") == {"m": "other"}
    assert label.decode(b"\x00") == {"m": "off"}


def test_enum_keys_may_be_strings_from_json(field_types: FieldTypeRegistry) -> None:
    decoder = struct(field_types, {"name": "m", "type": "i8", "enum": {"-1": "error", "1": "ok"}})
    assert decoder.decode(b"\xff") == {"m": "error"}


# --- bytes and text -------------------------------------------------------------------------


def test_bytes_and_text_fields(field_types: FieldTypeRegistry) -> None:
    decoder = struct(
        field_types,
        {"name": "id", "type": "bytes", "length": 4},
        {"name": "name", "type": "ascii", "length": 6},
        {"name": "unit", "type": "utf8", "length": 3},
    )
    payload = bytes.fromhex("DEADBEEF") + b"probe\x00" + "\u00b0C".encode()
    assert decoder.decode(payload) == {"id": "DEADBEEF", "name": "probe", "unit": "\u00b0C"}


def test_invalid_text_names_field_and_offset(field_types: FieldTypeRegistry) -> None:
    decoder = struct(field_types, {"name": "kind", "type": "u8"}, {"name": "label", "type": "ascii", "length": 3})
    with pytest.raises(DecodeError) as info:
        decoder.decode(b"\x01ab\xe9")
    assert "'label'" in str(info.value) and "offset 3" in str(info.value)
    assert info.value.field == "label" and info.value.offset == 3


# --- optional fields and short payloads -----------------------------------------------------


def test_optional_fields_are_absent_when_the_payload_is_short(field_types: FieldTypeRegistry) -> None:
    decoder = struct(
        field_types,
        {"name": "kind", "type": "u8"},
        {"name": "battery", "type": "u16_be", "optional": True},
        {"name": "rssi", "type": "i8", "optional": True},
    )
    assert decoder.decode(b"\x01") == {"kind": 1}
    assert decoder.decode(b"\x01\x0c") == {"kind": 1}
    assert decoder.decode(b"\x01\x0c\x1f") == {"kind": 1, "battery": 3103}
    assert decoder.decode(b"\x01\x0c\x1f\xb0") == {"kind": 1, "battery": 3103, "rssi": -80}
    assert decoder.min_length == 1 and decoder.length == 4


def test_optional_and_required_bit_fields_in_one_word(field_types: FieldTypeRegistry) -> None:
    decoder = struct(
        field_types,
        {"name": "kind", "type": "u8"},
        {"name": "a", "type": "u8", "bits": "0-3", "optional": True},
        {"name": "b", "type": "u8", "bits": "4-7", "optional": True},
    )
    assert decoder.decode(b"\x01") == {"kind": 1}
    assert decoder.decode(b"\x01\x21") == {"kind": 1, "a": 1, "b": 2}


def test_too_short_names_field_needed_and_actual_length(field_types: FieldTypeRegistry) -> None:
    decoder = struct(
        field_types,
        {"name": "kind", "type": "u8"},
        {"name": "temperature", "type": "i16_be"},
        {"name": "battery_mv", "type": "u16_be"},
    )
    with pytest.raises(DecodeError) as info:
        decoder.decode(bytes.fromhex("0117A4"))
    assert str(info.value) == "payload too short for field 'battery_mv' (u16_be at offset 3): needs 5 bytes, got 3"
    assert info.value.field == "battery_mv" and isinstance(info.value, RulesEngineError)
    with pytest.raises(DecodeError, match=r"field 'kind' \(u8 at offset 0\): needs 1 bytes, got 0"):
        decoder.decode(b"")
    with pytest.raises(DecodeError, match=r"field 'temperature' .*needs 3 bytes, got 2"):
        decoder.decode(b"\x01\x17")


def test_too_short_names_the_first_declared_field_that_does_not_fit(field_types: FieldTypeRegistry) -> None:
    decoder = struct(field_types, {"name": "far", "type": "u8", "offset": 9}, {"name": "near", "type": "u8", "offset": 4})
    with pytest.raises(DecodeError, match=r"field 'far' \(u8 at offset 9\): needs 10 bytes, got 3"):
        decoder.decode(b"\x00\x00\x00")


def test_a_spec_model_compiles_too(field_types: FieldTypeRegistry) -> None:
    spec = StructSpec.model_validate({"fields": [{"name": "a", "type": "u8"}]})
    decoder = compile_struct(spec, field_types)
    assert decoder.spec is spec and decoder.decode(b"\x05") == {"a": 5}


# --- the documented example payloads (shared/conductor-api.md section 10) -------------------

E1_SPEC = {
    "fields": [
        {"name": "kind", "type": "u8"},
        {"name": "temperature", "type": "i16_be", "scale": 0.01},
        {"name": "battery_mv", "type": "u16_be"},
    ]
}


def test_documented_example_payload_e1(field_types: FieldTypeRegistry) -> None:
    uplink = _wire.parse_uplink(EXAMPLES["E1"], "http://conductor.test/events")
    assert uplink.payload_hex == "0117A40C1F"
    decoder = compile_struct(E1_SPEC, field_types)
    assert decoder.decode(uplink.payload) == {"kind": 1, "temperature": 60.52, "battery_mv": 3103}


def test_documented_example_payload_e4_app_ack(field_types: FieldTypeRegistry) -> None:
    """E4 is an app-level ack on port 7: marker 0xAC, then the acknowledged sequence number."""
    uplink = _wire.parse_uplink(EXAMPLES["E4"], "http://conductor.test/events")
    decoder = compile_struct(
        {"fields": [{"name": "marker", "type": "u8", "enum": {0xAC: "ack"}}, {"name": "seq", "type": "u32_be"}]},
        field_types,
    )
    assert decoder.decode(uplink.payload) == {"marker": "ack", "seq": 42}


def test_documented_example_payload_e2_with_bit_fields(field_types: FieldTypeRegistry) -> None:
    uplink = _wire.parse_uplink(EXAMPLES["E2"], "http://conductor.test/events")
    decoder = compile_struct(
        {
            "fields": [
                {"name": "alarm", "type": "u8", "bits": 7},
                {"name": "mode", "type": "u8", "bits": "4-6", "enum": {2: "heating"}},
                {"name": "level", "type": "u8", "bits": "0-3"},
                {"name": "count", "type": "u16_be"},
            ]
        },
        field_types,
    )
    assert decoder.decode(uplink.payload) == {"alarm": 1, "mode": "heating", "level": 5, "count": 1}
