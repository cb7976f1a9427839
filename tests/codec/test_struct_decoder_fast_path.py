"""The generated ``decode`` of a struct decoder (combined ``Struct`` reads, inline arithmetic) gives
what running the steps one by one (``run_steps``, the reference) gives: the same keys in the same
order, the same values of the same types (floats to the bit), the same errors."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rules_engine.codec import CodecSpecError, FieldTypeRegistry, StructDecoder, compile_struct, default_field_types
from rules_engine.codec.bitrange import BitRange
from rules_engine.codec.convert import Scaling, decode_converter, decode_source
from rules_engine.codec.fieldtypes import FieldCodec, FieldKind, FieldType

REGISTRY = default_field_types()
INT_TYPES = [t.name for t in REGISTRY if t.kind is FieldKind.INT]
OTHER_TYPES = [t.name for t in REGISTRY if t.kind is not FieldKind.INT]
SCALES = [None, 1, 2, -3, 0.01, 0.1, 0.5, 0.25, 0.3, 1.5, -0.01, 1e-6, 10.0]
ADDS = [None, 0, 1, -40, 0.5, -273.15, 1e3]


def same(value: Any) -> Any:
    """A value with its type, floats by their bits (so NaN equals NaN and -0.0 differs from 0.0)."""
    if isinstance(value, float):
        return float, struct.pack(">d", value)
    return type(value), value


def outcome(decode: Any, payload: Any) -> tuple[Any, ...]:
    try:
        decoded = decode(payload)
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        return "error", type(exc), str(exc), getattr(exc, "field", None), getattr(exc, "offset", None)
    return "decoded", [(name, same(value)) for name, value in decoded.items()]


def assert_same(decoder: StructDecoder, payload: bytes) -> None:
    expected = outcome(decoder.run_steps, payload)
    assert outcome(decoder.decode, payload) == expected
    assert outcome(decoder.decode, bytearray(payload)) == expected
    assert outcome(decoder.decode, memoryview(payload)) == expected


@st.composite
def field_specs(draw: st.DrawFn, index: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": f"f{index}"}
    if draw(st.booleans()):
        spec["type"] = type_name = draw(st.sampled_from(INT_TYPES))
        width = REGISTRY[type_name].bit_width or 8
        if draw(st.booleans()):
            lo = draw(st.integers(0, width - 1))
            hi = draw(st.integers(lo, min(width - 1, lo + 12)))
            spec["bits"] = f"{lo}-{hi}" if hi > lo else lo
        choice = draw(st.sampled_from(["plain", "scale", "enum"]))
        if choice == "scale":
            spec["scale"], spec["add"] = draw(st.sampled_from(SCALES)), draw(st.sampled_from(ADDS))
        elif choice == "enum":
            spec["enum"] = {0: "zero", 1: "one", 3: "three"}
            if draw(st.booleans()):
                spec["unknown"] = "other"
    else:
        spec["type"] = type_name = draw(st.sampled_from(OTHER_TYPES))
        if REGISTRY[type_name].needs_length:
            spec["length"] = draw(st.integers(1, 5))
        elif REGISTRY[type_name].kind is FieldKind.FLOAT and draw(st.booleans()):
            spec["scale"], spec["add"] = draw(st.sampled_from(SCALES)), draw(st.sampled_from(ADDS))
    if draw(st.integers(0, 4)) == 0:
        spec["offset"] = draw(st.integers(0, 24))
    if draw(st.integers(0, 4)) == 0:
        spec["optional"] = True
    return {key: value for key, value in spec.items() if value is not None}


@st.composite
def decoders(draw: st.DrawFn) -> StructDecoder:
    count = draw(st.integers(1, 7))
    fields = [draw(field_specs(index)) for index in range(count)]
    try:
        return compile_struct({"fields": fields}, REGISTRY)
    except CodecSpecError:
        assume(False)
        raise


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(decoder=decoders(), data=st.data())
def test_generated_decode_equals_the_steps(decoder: StructDecoder, data: st.DataObject) -> None:
    for _ in range(6):
        size = data.draw(st.integers(0, decoder.length + 3))
        assert_same(decoder, data.draw(st.binary(min_size=size, max_size=size)))
    assert_same(decoder, b"\xff" * (decoder.length + 1))
    assert_same(decoder, b"\x00" * decoder.length)


def test_the_benchmark_layout_reads_once_with_inline_arithmetic(field_types: FieldTypeRegistry) -> None:
    decoder = compile_struct({"fields": [
        {"name": "message_type", "type": "u8"}, {"name": "temperature", "type": "i16_be", "scale": 0.01},
        {"name": "humidity", "type": "u8"}, {"name": "battery_mv", "type": "u16_be"},
        {"name": "button", "type": "u8", "offset": 6, "bits": 0},
        {"name": "tamper", "type": "u8", "offset": 6, "bits": 1}, {"name": "counter", "type": "u8", "offset": 7},
    ]}, field_types)
    namespace = decoder.decode.__globals__
    assert [name for name in namespace if name.startswith("read")] == ["read1"]  # one combined Struct
    assert not [name for name in namespace if name.startswith("c")]  # no converter called
    assert decoder.decode(bytes.fromhex("010C242A0DD90201")) == {"message_type": 1, "temperature": 31.08, "humidity": 42,
                                                                 "battery_mv": 3545, "button": 0, "tamper": 1, "counter": 1}
    assert_same(decoder, bytes.fromhex("01FFFF2A0DD9FF01"))


def test_words_of_both_byte_orders_and_gaps(field_types: FieldTypeRegistry) -> None:
    decoder = compile_struct({"fields": [
        {"name": "a", "type": "u16_le"}, {"name": "b", "type": "u8"}, {"name": "c", "type": "i32_be", "offset": 6},
        {"name": "d", "type": "u24_be"}, {"name": "e", "type": "float32_le"}, {"name": "f", "type": "bytes", "length": 2},
        {"name": "g", "type": "u64_be", "offset": 30, "bits": "60-63"},
        {"name": "h", "type": "u64_be", "offset": 30, "bits": "0-3"},
    ]}, field_types)
    assert len([name for name in decoder.decode.__globals__ if name.startswith("read")]) >= 2
    payload = bytes(range(40))
    assert_same(decoder, payload)
    assert list(decoder.decode(payload)) == ["a", "b", "c", "d", "e", "f", "g", "h"]


def _plugin_types() -> FieldTypeRegistry:
    registry = default_field_types()
    native = struct.Struct("I")  # native sizes and alignment: read by itself, never combined
    pair = struct.Struct(">2B")  # two items: the first is the value

    class Counting(struct.Struct):
        """A Struct subclass may do more than read: read by itself."""

        calls = 0

        def unpack_from(self, buffer: Any, offset: int = 0, /) -> tuple[Any, ...]:
            Counting.calls += 1
            return super().unpack_from(buffer, offset)

    counting = Counting(">H")
    for name, codec in (("native_u32", FieldCodec(native.size, native.unpack_from, native.pack)),
                        ("pair_first", FieldCodec(pair.size, pair.unpack_from, lambda raw: pair.pack(raw, 0))),
                        ("counted_u16", FieldCodec(counting.size, counting.unpack_from, counting.pack))):
        registry.register(FieldType(name, FieldKind.INT, codec.size, lambda _size, codec=codec: codec, 0, 2**16 - 1),
                          plugin="test")
    return registry


def test_plugin_codecs_that_are_not_plain_structs_read_by_themselves() -> None:
    registry = _plugin_types()
    decoder = compile_struct({"fields": [
        {"name": "a", "type": "u8"}, {"name": "n", "type": "native_u32"}, {"name": "p", "type": "pair_first", "scale": 2},
        {"name": "c", "type": "counted_u16", "bits": "0-3"}, {"name": "z", "type": "u8"},
    ]}, registry)
    names = [name for name in decoder.decode.__globals__ if name.startswith(("read", "unpack"))]
    assert len([name for name in names if name.startswith("unpack")]) == 3
    for payload in (bytes(range(1, 20)), b"\xff" * 12, b"\x01\x02"):
        assert_same(decoder, payload)


def test_converter_errors_come_in_step_order(field_types: FieldTypeRegistry) -> None:
    decoder = compile_struct({"fields": [
        {"name": "a", "type": "ascii", "length": 2}, {"name": "b", "type": "utf8", "length": 2},
        {"name": "c", "type": "u24_le"}, {"name": "d", "type": "u8", "enum": {1: "one"}, "unknown": "?"},
    ]}, field_types)
    for payload in (b"\xff\xff\xff\xff\x00\x00\x00\x01", b"ab\xff\xff\x00\x00\x00\x01", b"ab\xc3\xa9\x01\x00\x00\x02"):
        assert_same(decoder, payload)


# -- the arithmetic, inline ---------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("add", ADDS)
def test_scaling_source_computes_what_the_converter_does(scale: Any, add: Any) -> None:
    u16, f32 = REGISTRY["u16_be"], REGISTRY["float32_le"]
    for field_type, raws in ((u16, [0, 1, 3, 99, 6052, 65535]), (f32, [0.0, -0.0, 1.5, 3.4e38, float("inf"), float("nan")])):
        for bits in ([None, BitRange(0, 3), BitRange(4, 15)] if field_type is u16 else [None]):
            scaling = Scaling(scale, add)
            convert = decode_converter(field_type, field_type.codec(), name="x", offset=0, bits=bits, scaling=scaling)
            names: dict[str, Any] = {}

            def constant(value: Any) -> str:
                names[f"k{len(names)}"] = value
                return f"k{len(names) - 1}"

            source = decode_source(field_type, field_type.codec(), "raw", constant, bits=bits, scaling=scaling)
            assert source is not None
            function = eval(f"lambda raw: {source}", names)  # noqa: S307 - the code under test writes source
            for raw in raws:
                expected = raw if convert is None else convert(raw)
                assert same(function(raw)) == same(expected), (source, raw)


def test_no_source_for_what_is_more_than_arithmetic() -> None:
    def constant(value: Any) -> str:
        raise AssertionError("not reached")

    i16, ascii_type = REGISTRY["i16_be"], REGISTRY["ascii"]
    assert decode_source(i16, i16.codec(), "raw", constant, bits=BitRange(0, 3)) is None  # sign extension
    assert decode_source(i16, i16.codec(), "raw", constant, enum={1: "one"}) is None
    assert decode_source(ascii_type, ascii_type.codec(3), "raw", constant) is None
