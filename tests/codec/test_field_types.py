"""Every built-in field type, both ways, with endianness and sign edges; the registry."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest

from rules_engine.codec import (
    CodecSpecError,
    FieldCodec,
    FieldKind,
    FieldType,
    FieldTypeRegistry,
    PayloadError,
    compile_payload,
    compile_struct,
    default_field_types,
)
from rules_engine.errors import PluginError

BUILTIN_NAMES = (
    "u8 i8 u16_be u16_le i16_be i16_le u24_be u24_le u32_be u32_le i32_be i32_le u64_be u64_le "
    "i64_be i64_le float32_be float32_le float64_be float64_le bool bytes ascii utf8"
).split()

# (type, length, payload hex, decoded value)
CASES: list[tuple[str, int | None, str, Any]] = [
    ("u8", None, "00", 0),
    ("u8", None, "FF", 255),
    ("i8", None, "7F", 127),
    ("i8", None, "80", -128),
    ("i8", None, "FF", -1),
    ("u16_be", None, "0102", 0x0102),
    ("u16_le", None, "0201", 0x0102),
    ("u16_be", None, "FFFF", 65535),
    ("i16_be", None, "8000", -32768),
    ("i16_le", None, "0080", -32768),
    ("i16_be", None, "7FFF", 32767),
    ("i16_le", None, "FF7F", 32767),
    ("i16_be", None, "FFFE", -2),
    ("i16_le", None, "FEFF", -2),
    ("u24_be", None, "010203", 0x010203),
    ("u24_le", None, "030201", 0x010203),
    ("u24_be", None, "FFFFFF", 0xFFFFFF),
    ("u24_le", None, "000080", 0x800000),
    ("u32_be", None, "01020304", 0x01020304),
    ("u32_le", None, "04030201", 0x01020304),
    ("u32_be", None, "FFFFFFFF", 2**32 - 1),
    ("i32_be", None, "80000000", -(2**31)),
    ("i32_le", None, "00000080", -(2**31)),
    ("i32_be", None, "7FFFFFFF", 2**31 - 1),
    ("u64_be", None, "0102030405060708", 0x0102030405060708),
    ("u64_le", None, "0807060504030201", 0x0102030405060708),
    ("u64_le", None, "FFFFFFFFFFFFFFFF", 2**64 - 1),
    ("i64_be", None, "8000000000000000", -(2**63)),
    ("i64_le", None, "0000000000000080", -(2**63)),
    ("i64_be", None, "FFFFFFFFFFFFFFFF", -1),
    ("float32_be", None, "3FC00000", 1.5),
    ("float32_le", None, "0000C03F", 1.5),
    ("float32_be", None, "C1AC0000", -21.5),
    ("float64_be", None, "3FF8000000000000", 1.5),
    ("float64_le", None, "000000000000F83F", 1.5),
    ("float64_be", None, "C035800000000000", -21.5),
    ("bool", None, "00", False),
    ("bool", None, "01", True),
    ("bytes", 3, "0117A4", "0117A4"),
    ("bytes", 2, "cafe", "CAFE"),
    ("ascii", 4, "48690000", "Hi"),
    ("ascii", 2, "4869", "Hi"),
    ("utf8", 4, "C3A90000", "\u00e9"),
    ("utf8", 3, "E282AC", "\u20ac"),
]


def _field(kind: str, length: int | None, **extra: Any) -> dict[str, Any]:
    field: dict[str, Any] = {"name": "x", "type": kind, **extra}
    if length is not None:
        field["length"] = length
    return field


@pytest.mark.parametrize(("kind", "length", "hex_", "value"), CASES)
def test_decode_each_type(field_types: FieldTypeRegistry, kind: str, length: int | None, hex_: str, value: Any) -> None:
    decoder = compile_struct({"fields": [_field(kind, length)]}, field_types)
    decoded = decoder.decode(bytes.fromhex(hex_))
    assert decoded == {"x": value}
    assert type(decoded["x"]) is type(value)


@pytest.mark.parametrize(("kind", "length", "hex_", "value"), CASES)
def test_build_each_type(field_types: FieldTypeRegistry, compile_expr: Any, kind: str, length: int | None,
                         hex_: str, value: Any) -> None:
    builder = compile_payload({"fields": [_field(kind, length, expr={"var": "v"})]}, field_types, compile_expr)
    assert builder.build({"v": value}).hex().upper() == hex_.upper()


def test_bool_decodes_any_nonzero_byte_as_true(field_types: FieldTypeRegistry) -> None:
    decoder = compile_struct({"fields": [{"name": "b", "type": "bool"}]}, field_types)
    assert decoder.decode(b"\xff") == {"b": True}
    assert decoder.decode(b"\x02") == {"b": True}


def test_float_special_values_decode(field_types: FieldTypeRegistry) -> None:
    decoder = compile_struct({"fields": [{"name": "f", "type": "float32_be"}]}, field_types)
    assert math.isnan(decoder.decode(bytes.fromhex("7FC00000"))["f"])
    assert decoder.decode(bytes.fromhex("FF800000"))["f"] == -math.inf


def test_float32_rounds_to_single_precision(field_types: FieldTypeRegistry, compile_expr: Any) -> None:
    builder = compile_payload({"fields": [{"type": "float32_le", "expr": {"var": "v"}}]}, field_types, compile_expr)
    decoder = compile_struct({"fields": [{"name": "v", "type": "float32_le"}]}, field_types)
    assert decoder.decode(builder.build({"v": 0.1}))["v"] == struct.unpack("<f", struct.pack("<f", 0.1))[0]


# (type, a value just outside the range)
OUT_OF_RANGE = [
    ("u8", 256), ("u8", -1), ("i8", 128), ("i8", -129),
    ("u16_be", 65536), ("u16_le", -1), ("i16_be", 32768), ("i16_le", -32769),
    ("u24_be", 2**24), ("u24_le", -1),
    ("u32_be", 2**32), ("i32_le", -(2**31) - 1),
    ("u64_be", 2**64), ("u64_le", -1), ("i64_be", 2**63), ("i64_le", -(2**63) - 1),
    ("float32_be", 3.5e38), ("float32_le", -3.5e38),
]


@pytest.mark.parametrize(("kind", "value"), OUT_OF_RANGE)
def test_range_edges_rejected(field_types: FieldTypeRegistry, compile_expr: Any, kind: str, value: Any) -> None:
    builder = compile_payload({"fields": [{"name": "x", "type": kind, "expr": {"var": "v"}}]}, field_types, compile_expr)
    with pytest.raises(PayloadError) as info:
        builder.build({"v": value})
    message = str(info.value)
    assert "fields[0] 'x'" in message and kind in message and "out of range" in message and repr(value) in message


@pytest.mark.parametrize("kind", ["float64_be", "float32_le"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_floats_rejected(field_types: FieldTypeRegistry, compile_expr: Any, kind: str, value: float) -> None:
    builder = compile_payload({"fields": [{"type": kind, "expr": {"var": "v"}}]}, field_types, compile_expr)
    with pytest.raises(PayloadError, match="not a finite number"):
        builder.build({"v": value})


def test_ranges_of_types() -> None:
    registry = default_field_types()
    assert (registry["u8"].min_value, registry["u8"].max_value) == (0, 255)
    assert (registry["i16_le"].min_value, registry["i16_le"].max_value) == (-32768, 32767)
    assert (registry["u24_be"].min_value, registry["u24_be"].max_value) == (0, 2**24 - 1)
    assert (registry["i64_be"].min_value, registry["i64_be"].max_value) == (-(2**63), 2**63 - 1)
    assert registry["float32_be"].max_value == struct.unpack(">f", bytes.fromhex("7F7FFFFF"))[0]
    assert registry["u32_le"].bit_width == 32 and registry["float32_le"].bit_width is None


def test_registry_holds_the_builtins_in_order() -> None:
    registry = default_field_types()
    assert registry.names() == BUILTIN_NAMES
    assert len(registry) == len(BUILTIN_NAMES)
    assert all(registry.owner(name) == "builtin" for name in BUILTIN_NAMES)
    assert {t.name: t.kind for t in registry}["bytes"] is FieldKind.BYTES
    assert registry["u16_be"].size == 2 and registry["bytes"].size is None


def test_each_registry_is_new() -> None:
    first, second = default_field_types(), default_field_types()
    first.register(FieldType("extra", FieldKind.INT, 1, first["u8"].make_codec, 0, 255))
    assert "extra" in first and "extra" not in second


def test_duplicate_registration_names_the_type_and_both_plugins() -> None:
    registry = default_field_types()
    with pytest.raises(PluginError) as info:
        registry.register(FieldType("u16_be", FieldKind.INT, 2, registry["u16_be"].make_codec), plugin="acme")
    message = str(info.value)
    assert "'u16_be'" in message and "'acme'" in message and "'builtin'" in message


def test_registering_a_bad_name_is_a_plugin_error() -> None:
    with pytest.raises(PluginError, match="identifier"):
        FieldTypeRegistry().register(FieldType("u16-be", FieldKind.INT, 2, lambda size: None))  # type: ignore[arg-type,return-value]


def test_unknown_name_lookup_suggests() -> None:
    registry = default_field_types()
    with pytest.raises(KeyError, match="did you mean 'u16_be'"):
        registry["uint16_be"]
    assert registry.suggest("int8")[0] == "i8"
    assert registry.suggest("double_le")[0] == "float64_le"
    assert set(registry.suggest("u16")) == {"u16_be", "u16_le"}


def _i24_be() -> FieldType:
    """A plugin type: signed 24-bit big-endian, written with its own codec."""

    def unpack_from(buffer: bytes, offset: int = 0) -> tuple[int]:
        return (int.from_bytes(buffer[offset:offset + 3], "big", signed=True),)

    def pack(value: int) -> bytes:
        return value.to_bytes(3, "big", signed=True)

    codec = FieldCodec(3, unpack_from, pack)
    return FieldType("i24_be", FieldKind.INT, 3, lambda _size: codec, -(2**23), 2**23 - 1, True)


def test_a_plugin_type_works_like_a_builtin(compile_expr: Any) -> None:
    registry = default_field_types()
    registry.register(_i24_be(), plugin="acme")
    decoder = compile_struct(
        {"fields": [{"name": "t", "type": "i24_be", "scale": 0.001}, {"name": "top", "type": "i24_be", "bits": "20-23"}]},
        registry,
    )
    assert decoder.decode(bytes.fromhex("FFFC18" "7FFFFF")) == {"t": -1.0, "top": 7}
    builder = compile_payload({"fields": [{"type": "i24_be", "expr": {"var": "v"}}]}, registry, compile_expr)
    assert builder.build({"v": -1000}) == bytes.fromhex("FFFC18")
    with pytest.raises(PayloadError, match="out of range"):
        builder.build({"v": 2**23})


def test_u24_codec_refuses_short_buffers() -> None:
    codec = default_field_types()["u24_le"].codec()
    assert codec.unpack_from(b"\x00\x01\x02\x03", 1) == (0x030201,)
    with pytest.raises(struct.error):
        codec.unpack_from(b"\x00\x01", 0)


def test_length_needed_only_by_sized_types(field_types: FieldTypeRegistry) -> None:
    with pytest.raises(ValueError, match="needs a length"):
        field_types["ascii"].codec()
    with pytest.raises(CodecSpecError, match="needs a length"):
        compile_struct({"fields": [{"name": "s", "type": "utf8"}]}, field_types)
