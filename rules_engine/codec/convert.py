"""Per-field value conversion, both ways: raw -> decoded value, and value -> raw for packing.

Decoding: ``to_value`` (bytes/text) -> bit extraction -> enum label -> ``raw * scale + add``.
Building is the mirror: enum label -> raw, ``(value - add) / scale``, rounding, range check.

Numbers written with a decimal scale such as ``0.01`` are divided by 100 instead of multiplied by
0.01, so ``6052`` decodes to ``60.52`` and not to ``60.520000000000003``.

:func:`decode_source` gives the same decoding as Python source, for the struct decoder's generated
code, when every step is plain arithmetic (bit fields of unsigned types, scale/add).

Decisions (see docs/payloads.md): a float packed into an integer type is rounded to the nearest
integer, ties to even (Python's :func:`round`); booleans pack into integer types as 0/1; strings
never pack into numeric types except as enum labels; NaN and infinities are rejected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from rules_engine.codec.bitrange import BitRange
from rules_engine.codec.errors import DecodeError
from rules_engine.codec.fieldtypes import FieldCodec, FieldKind, FieldType

__all__ = ["Scaling", "decode_converter", "decode_source", "encode_converter", "value_range"]

Convert = Callable[[Any], Any]
#: Names a value for generated source: returns the name the source may use for it.
Constant = Callable[[Any], str]


class Scaling:
    """``decoded = raw * scale + add`` and its inverse."""

    __slots__ = ("scale", "add", "_divisor")

    def __init__(self, scale: int | float | None, add: int | float | None) -> None:
        self.scale = scale
        self.add = add
        self._divisor: int | None = None
        if isinstance(scale, float) and 0 < abs(scale) < 1:
            inverse = 1 / scale
            rounded = round(inverse)
            if rounded and abs(inverse - rounded) <= 1e-9 * abs(rounded):
                self._divisor = rounded

    @property
    def active(self) -> bool:
        return self.scale is not None or self.add is not None

    def decoder(self) -> Convert | None:
        scale, add, divisor = self.scale, self.add, self._divisor
        if scale is None and add is None:
            return None
        if scale is None:
            return lambda raw: raw + add
        if divisor is not None:
            return (lambda raw: raw / divisor) if add is None else (lambda raw: raw / divisor + add)
        return (lambda raw: raw * scale) if add is None else (lambda raw: raw * scale + add)

    def source(self, raw: str, constant: Constant) -> str:
        """What :meth:`decoder` computes, as source over the expression ``raw`` (``raw`` when inactive)."""
        scale, add, divisor = self.scale, self.add, self._divisor
        if scale is None and add is None:
            return raw
        if scale is None:
            return f"({raw} + {constant(add)})"
        if divisor is not None:
            scaled = f"{raw} / {constant(divisor)}"
        else:
            scaled = f"{raw} * {constant(scale)}"
        return f"({scaled})" if add is None else f"({scaled} + {constant(add)})"

    def encode(self, value: int | float) -> int | float:
        if self.add is not None:
            value = value - self.add
        if self.scale is not None:
            value = value * self._divisor if self._divisor is not None else value / self.scale
        return value


def value_range(field_type: FieldType, bits: BitRange | None) -> tuple[int | float | None, int | float | None]:
    """What a field can pack: the bit range's limits for a bit field, else the type's range."""
    if bits is not None:
        if field_type.signed:
            return -(1 << (bits.length - 1)), (1 << (bits.length - 1)) - 1
        return 0, bits.mask
    return field_type.min_value, field_type.max_value


def decode_converter(
    field_type: FieldType,
    codec: FieldCodec,
    *,
    name: str,
    offset: int,
    bits: BitRange | None = None,
    scaling: Scaling | None = None,
    enum: Mapping[int, str] | None = None,
    unknown: str | None = None,
) -> Convert | None:
    """The function applied to a field's raw value when decoding (``None``: keep the raw value)."""
    steps: list[Convert] = []
    if codec.to_value is not None:
        steps.append(_guard(codec.to_value, field_type, name, offset))
    if bits is not None:
        steps.append(_bit_extractor(bits, field_type.signed))
    if enum is not None:
        table = dict(enum)
        get = table.get
        steps.append((lambda raw: get(raw, raw)) if unknown is None else (lambda raw: get(raw, unknown)))
    scale = scaling.decoder() if scaling is not None else None
    if scale is not None:
        steps.append(scale)
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]
    chain = tuple(steps)

    def convert(raw: Any) -> Any:
        for step in chain:
            raw = step(raw)
        return raw

    return convert


def decode_source(
    field_type: FieldType,
    codec: FieldCodec,
    raw: str,
    constant: Constant,
    *,
    bits: BitRange | None = None,
    scaling: Scaling | None = None,
    enum: Mapping[int, str] | None = None,
) -> str | None:
    """What :func:`decode_converter` with these options computes, as a Python expression over the
    variable ``raw``; ``None`` when a step is more than arithmetic (``to_value``, an enum, a bit
    field of a signed type). The expression gives the same value, of the same type."""
    if codec.to_value is not None or enum is not None or (bits is not None and field_type.signed):
        return None
    source = raw
    if bits is not None:
        source = f"(({source} >> {int(bits.lo)}) & {int(bits.mask)})"
    if scaling is not None:
        source = scaling.source(source, constant)
    return source


def _guard(to_value: Convert, field_type: FieldType, name: str, offset: int) -> Convert:
    def convert(raw: Any) -> Any:
        try:
            return to_value(raw)
        except UnicodeDecodeError as exc:
            raise DecodeError(
                f"field {name!r} ({field_type.name} at offset {offset}): invalid {exc.encoding} "
                f"at payload offset {offset + exc.start}",
                field=name,
                offset=offset + exc.start,
            ) from exc
        except ValueError as exc:
            raise DecodeError(
                f"field {name!r} ({field_type.name} at offset {offset}): {exc}", field=name, offset=offset
            ) from exc

    return convert


def _bit_extractor(bits: BitRange, signed: bool) -> Convert:
    lo, mask = bits.lo, bits.mask
    if not signed:
        return lambda raw: (raw >> lo) & mask
    sign, span = 1 << (bits.length - 1), 1 << bits.length

    def extract(raw: int) -> int:
        value = (raw >> lo) & mask
        return value - span if value & sign else value

    return extract


def encode_converter(
    field_type: FieldType,
    codec: FieldCodec,
    *,
    bits: BitRange | None = None,
    scaling: Scaling | None = None,
    enum: Mapping[int, str] | None = None,
) -> Convert:
    """The function turning a user value into the raw value packed (or the bits of a bit field).

    It raises :class:`ValueError` or :class:`TypeError` with a reason; the builder adds the field.
    """
    if codec.from_value is not None:
        return codec.from_value
    kind = field_type.kind
    low, high = value_range(field_type, bits)
    type_text = field_type.name if bits is None else f"bits {bits} of {field_type.name}"
    scaling = scaling if scaling is not None and scaling.active else None
    labels = {label: raw for raw, label in enum.items()} if enum else None

    if kind is FieldKind.BOOL:
        return _to_bool
    if kind is FieldKind.FLOAT:

        def to_float(value: Any) -> float:
            number = _number(value, allow_bool=False)
            scaled = scaling.encode(number) if scaling is not None else number
            if not math.isfinite(scaled):
                raise ValueError(f"{_scaled_text(number, scaled)} is not a finite number")
            _check_range(scaled, low, high, type_text, number)
            return float(scaled)

        return to_float
    if kind is FieldKind.INT:

        def to_int(value: Any) -> int:
            if labels is not None and isinstance(value, str):
                if value not in labels:
                    raise ValueError(f"{value!r} is not a label of the enum {sorted(labels)}")
                value = labels[value]
            number = _number(value, allow_bool=True)
            scaled = scaling.encode(number) if scaling is not None else number
            if isinstance(scaled, float):
                if not math.isfinite(scaled):
                    raise ValueError(f"{_scaled_text(number, scaled)} is not a finite number")
                scaled = round(scaled)  # half to even
            _check_range(scaled, low, high, type_text, number)
            return int(scaled)

        return to_int
    raise TypeError(f"field type {field_type.name!r} of kind {kind.value} has no from_value")


def _number(value: Any, *, allow_bool: bool) -> int | float:
    if isinstance(value, bool):
        if allow_bool:
            return int(value)
        raise TypeError("expected a number, got a boolean")
    if isinstance(value, (int, float)):
        return value
    if value is None:
        raise TypeError("expected a number, got null (is the variable missing from the context?)")
    raise TypeError(f"expected a number, got {type(value).__name__} {value!r}")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise TypeError(f"expected true/false (or 0/1), got {type(value).__name__} {value!r}")


def _scaled_text(number: int | float, scaled: int | float) -> str:
    return repr(number) if number == scaled else f"{number!r} (scaled: {scaled!r})"


def _check_range(
    scaled: int | float, low: int | float | None, high: int | float | None, type_text: str, number: int | float
) -> None:
    if (low is not None and scaled < low) or (high is not None and scaled > high):
        raise ValueError(f"{_scaled_text(number, scaled)} is out of range for {type_text} ({low}..{high})")
