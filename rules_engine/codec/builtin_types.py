"""The built-in field types, registered into a fresh registry by :func:`default_field_types`."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from rules_engine.codec.fieldtypes import Buffer, FieldCodec, FieldKind, FieldType, FieldTypeRegistry

__all__ = ["default_field_types", "builtin_field_types"]

FLOAT32_MAX = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]  # 3.4028234663852886e38
FLOAT64_MAX = 1.7976931348623157e308

# name stem, struct code, signed
_INTS = (
    ("u16", "H", False),
    ("i16", "h", True),
    ("u32", "I", False),
    ("i32", "i", True),
    ("u64", "Q", False),
    ("i64", "q", True),
)
_ORDERS = (("be", ">", "big-endian"), ("le", "<", "little-endian"))


def _struct_codec(fmt: str) -> Callable[[int], FieldCodec]:
    compiled = struct.Struct(fmt)

    def make(_size: int) -> FieldCodec:
        return FieldCodec(compiled.size, compiled.unpack_from, compiled.pack)

    return make


def _int_type(name: str, fmt: str, signed: bool, description: str) -> FieldType:
    size = struct.calcsize(fmt)
    bits = size * 8
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    return FieldType(name, FieldKind.INT, size, _struct_codec(fmt), low, high, signed, description)


class _U24:
    """A 3-byte unsigned integer, read and written by hand (``struct`` has no 24-bit code)."""

    __slots__ = ("size", "big")

    def __init__(self, big: bool) -> None:
        self.size = 3
        self.big = big

    def unpack_from(self, buffer: Buffer, offset: int = 0, /) -> tuple[int]:
        if offset < 0 or len(buffer) < offset + 3:
            raise struct.error(f"unpack_from requires a buffer of at least {offset + 3} bytes")
        a, b, c = buffer[offset], buffer[offset + 1], buffer[offset + 2]
        return ((a << 16) | (b << 8) | c,) if self.big else ((c << 16) | (b << 8) | a,)

    def pack(self, value: int) -> bytes:
        if not 0 <= value <= 0xFFFFFF:
            raise struct.error("u24 value out of range")
        hi, mid, lo = (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF
        return bytes((hi, mid, lo)) if self.big else bytes((lo, mid, hi))


def _u24_type(name: str, big: bool, description: str) -> FieldType:
    raw = _U24(big)
    codec = FieldCodec(3, raw.unpack_from, raw.pack)
    return FieldType(name, FieldKind.INT, 3, lambda _size: codec, 0, 0xFFFFFF, False, description)


def _to_hex(raw: bytes) -> str:
    return raw.hex().upper()


def _measure_hex(value: Any) -> int:
    if isinstance(value, str):
        try:
            return len(bytes.fromhex(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a hex string such as 'CAFE'") from None
    raise TypeError(f"expected a hex string such as 'CAFE' (quote it in YAML), got {type(value).__name__} {value!r}")


def _measure_text(encoding: str) -> Callable[[Any], int]:
    def measure(value: Any) -> int:
        if not isinstance(value, str):
            raise TypeError(f"expected text (quote it in YAML), got {type(value).__name__} {value!r}")
        try:
            return len(value.encode(encoding))
        except UnicodeEncodeError as exc:
            raise ValueError(f"{value!r} is not {encoding} text (character {exc.start})") from None

    return measure


def _bytes_codec(size: int) -> FieldCodec:
    compiled = struct.Struct(f"{size}s")

    def from_value(value: Any) -> bytes:
        if isinstance(value, str):
            try:
                data = bytes.fromhex(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a hex string such as 'CAFE'") from None
        elif isinstance(value, (bytes, bytearray)):
            data = bytes(value)
        elif isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            if not all(0 <= v <= 255 for v in value):
                raise ValueError("a list of bytes must hold integers 0..255")
            data = bytes(value)
        else:
            raise TypeError(f"expected a hex string such as 'CAFE' (quote it in YAML), got {type(value).__name__} {value!r}")
        if len(data) != size:
            raise ValueError(f"{len(data)} bytes given, the field holds exactly {size}")
        return data

    return FieldCodec(size, compiled.unpack_from, compiled.pack, _to_hex, from_value)


def _text_codec(encoding: str) -> Callable[[int], FieldCodec]:
    def make(size: int) -> FieldCodec:
        compiled = struct.Struct(f"{size}s")

        def to_value(raw: bytes) -> str:
            return raw.rstrip(b"\x00").decode(encoding)

        def from_value(value: Any) -> bytes:
            if not isinstance(value, str):
                raise TypeError(f"expected text (quote it in YAML), got {type(value).__name__} {value!r}")
            try:
                data = value.encode(encoding)
            except UnicodeEncodeError as exc:
                raise ValueError(f"{value!r} is not {encoding} text (character {exc.start})") from None
            if len(data) > size:
                raise ValueError(f"{len(data)} bytes of {encoding} text, the field holds at most {size}")
            return data  # struct's "Ns" pads with NULs

        return FieldCodec(size, compiled.unpack_from, compiled.pack, to_value, from_value)

    return make


def _int_text(stem: str, signed: bool, order: str) -> str:
    return f"{'signed' if signed else 'unsigned'} {stem[1:]}-bit integer, {order}"


def builtin_field_types() -> list[FieldType]:
    """The built-in field types, in the order of the docs' table."""
    types = [
        _int_type("u8", ">B", False, "unsigned 8-bit integer"),
        _int_type("i8", ">b", True, "signed 8-bit integer"),
    ]
    for stem, code, signed in _INTS[:2]:
        for suffix, prefix, order in _ORDERS:
            types.append(_int_type(f"{stem}_{suffix}", prefix + code, signed, _int_text(stem, signed, order)))
    for suffix, _prefix, order in _ORDERS:
        types.append(_u24_type(f"u24_{suffix}", suffix == "be", f"unsigned 24-bit integer, {order}"))
    for stem, code, signed in _INTS[2:]:
        for suffix, prefix, order in _ORDERS:
            types.append(_int_type(f"{stem}_{suffix}", prefix + code, signed, _int_text(stem, signed, order)))
    for suffix, prefix, order in _ORDERS:
        types.append(
            FieldType(f"float32_{suffix}", FieldKind.FLOAT, 4, _struct_codec(prefix + "f"),
                      -FLOAT32_MAX, FLOAT32_MAX, True, f"IEEE 754 single precision, {order}")
        )
    for suffix, prefix, order in _ORDERS:
        types.append(
            FieldType(f"float64_{suffix}", FieldKind.FLOAT, 8, _struct_codec(prefix + "d"),
                      -FLOAT64_MAX, FLOAT64_MAX, True, f"IEEE 754 double precision, {order}")
        )
    types += [
        FieldType("bool", FieldKind.BOOL, 1, _struct_codec("?"), 0, 1, False, "one byte, true when nonzero"),
        FieldType("bytes", FieldKind.BYTES, None, _bytes_codec,
                  description="`length` bytes, as uppercase hex", measure=_measure_hex),
        FieldType("ascii", FieldKind.TEXT, None, _text_codec("ascii"),
                  description="`length` bytes of ASCII, trailing NULs stripped", measure=_measure_text("ascii")),
        FieldType("utf8", FieldKind.TEXT, None, _text_codec("utf-8"),
                  description="`length` bytes of UTF-8, trailing NULs stripped", measure=_measure_text("utf-8")),
    ]
    return types


def default_field_types() -> FieldTypeRegistry:
    """A new registry holding the built-in field types (plugins may register more)."""
    registry = FieldTypeRegistry()
    for field_type in builtin_field_types():
        registry.register(field_type, plugin="builtin")
    return registry
