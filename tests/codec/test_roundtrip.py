"""Round trip: for any spec of non-overlapping numeric fields, decode(build(values)) == values."""

from __future__ import annotations

import struct
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rules_engine.codec import FieldKind, compile_payload, compile_struct, default_field_types
from tests.codec.conftest import var_compiler

REGISTRY = default_field_types()  # read-only here
NUMERIC = [t for t in REGISTRY if t.kind in (FieldKind.INT, FieldKind.FLOAT)]
SIZES: dict[str, int] = {t.name: t.size for t in NUMERIC if t.size is not None}
INTS = [t for t in NUMERIC if t.kind is FieldKind.INT]


def _value(field_type: Any) -> st.SearchStrategy[Any]:
    if field_type.kind is FieldKind.INT:
        return st.integers(field_type.min_value, field_type.max_value)
    return st.floats(field_type.min_value, field_type.max_value, allow_nan=False, allow_infinity=False)


def _expected(field_type: Any, value: Any) -> Any:
    if field_type.name.startswith("float32"):
        fmt = ">f" if field_type.name.endswith("_be") else "<f"
        return struct.unpack(fmt, struct.pack(fmt, value))[0]
    return value


@st.composite
def numeric_specs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Fields of random numeric types, in sequence or at explicit offsets after random gaps."""
    count = draw(st.integers(1, 8))
    fields: list[dict[str, Any]] = []
    values: dict[str, Any] = {}
    expected: dict[str, Any] = {}
    cursor = 0
    for index in range(count):
        field_type = draw(st.sampled_from(NUMERIC))
        name = f"f{index}"
        field: dict[str, Any] = {"name": name, "type": field_type.name}
        gap = draw(st.integers(0, 3))
        if gap or draw(st.booleans()):
            field["offset"] = cursor + gap
        cursor += gap + SIZES[field_type.name]
        value = draw(_value(field_type))
        fields.append(field)
        values[name] = value
        expected[name] = _expected(field_type, value)
    if draw(st.booleans()):  # declaration order does not matter when every field has an offset
        offsets, position = [], 0
        for field in fields:
            offsets.append(field.get("offset", position))
            position = offsets[-1] + SIZES[field["type"]]
        for field, offset in zip(fields, offsets, strict=True):
            field["offset"] = offset
        fields = draw(st.permutations(fields))
    return fields, values, expected


def _round_trip(fields: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    decoder = compile_struct({"fields": fields}, REGISTRY)
    builder = compile_payload({"fields": [{**f, "expr": {"var": f["name"]}} for f in fields]}, REGISTRY, var_compiler)
    payload = builder.build(values)
    assert len(payload) == decoder.length
    return decoder.decode(payload)


@settings(max_examples=300, deadline=None)
@given(numeric_specs())
def test_numeric_fields_round_trip(case: tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]) -> None:
    fields, values, expected = case
    assert _round_trip(fields, values) == expected


@st.composite
def bit_field_specs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Words of an integer type cut into random bit fields (signed types: signed fields)."""
    fields: list[dict[str, Any]] = []
    values: dict[str, Any] = {}
    offset = 0
    for word in range(draw(st.integers(1, 3))):
        field_type = draw(st.sampled_from(INTS))
        width = SIZES[field_type.name] * 8
        cuts = sorted(draw(st.sets(st.integers(1, width - 1), max_size=6)))
        bounds = [0, *cuts, width]
        ranges = list(pairwise(bounds))
        for index, (lo, end) in enumerate(draw(st.permutations(ranges))):
            if draw(st.integers(0, 4)) == 0:
                continue  # leave some bits unused: they pack as zero
            length = end - lo
            low, high = (-(1 << (length - 1)), (1 << (length - 1)) - 1) if field_type.signed else (0, (1 << length) - 1)
            name = f"w{word}_{index}"
            fields.append({"name": name, "type": field_type.name, "offset": offset, "bits": f"{lo}-{end - 1}"})
            values[name] = draw(st.integers(low, high))
        offset += SIZES[field_type.name]
    if not fields:
        fields.append({"name": "pad", "type": "u8", "offset": offset})
        values["pad"] = 0
    return fields, values


@settings(max_examples=300, deadline=None)
@given(bit_field_specs())
def test_bit_fields_round_trip(case: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    fields, values = case
    assert _round_trip(fields, values) == values


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(INTS),
    st.sampled_from([0.1, 0.01, 0.5, 2, 10, 0.001]),
    st.integers(-100, 100),
    st.data(),
)
def test_scaled_fields_round_trip(field_type: Any, scale: float, add: int, data: st.DataObject) -> None:
    """A decoded scaled value (raw * scale + add) builds back to the same bytes.

    Raw values are kept within 2**40 so that ``raw * scale`` stays exact enough in a float.
    """
    raw = data.draw(st.integers(max(field_type.min_value, -(2**40)), min(field_type.max_value, 2**40)))
    field = {"name": "v", "type": field_type.name, "scale": scale, "add": add}
    decoder = compile_struct({"fields": [field]}, REGISTRY)
    builder = compile_payload({"fields": [{**field, "expr": {"var": "v"}}]}, REGISTRY, var_compiler)
    packed = field_type.codec().pack(raw)
    decoded = decoder.decode(packed)
    assert builder.build(decoded) == packed
