"""The payload builder, mirror image of the struct decoder.

:func:`compile_payload` turns a :class:`PayloadSpec` into a :class:`PayloadBuilder` once: field
types resolved, layout fixed (the same rules as the decoder), constants converted and checked,
expressions compiled. :meth:`PayloadBuilder.build` evaluates the expressions over a context and
packs; :meth:`PayloadBuilder.describe` does the same and reports what each field packed.

Bytes no field covers (gaps left by ``offset``, unused bits of a bit-field word) are zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from rules_engine.codec.convert import Scaling, encode_converter
from rules_engine.codec.errors import CodecSpecError, PayloadError
from rules_engine.codec.fieldtypes import FieldTypeRegistry
from rules_engine.codec.layout import PlacedField, Word, field_label, resolve_layout, resolve_type
from rules_engine.codec.loading import load_payload_spec
from rules_engine.codec.specs import PayloadField, PayloadSpec

__all__ = ["ExprCompiler", "PackedField", "PayloadDescription", "PayloadBuilder", "compile_payload"]

#: Turns a JsonLogic expression into a function of the context (``rules_engine.conditions.compile_condition``).
ExprCompiler = Callable[[Any], Callable[[Mapping[str, Any]], Any]]


@dataclass(frozen=True, slots=True)
class PackedField:
    """What one field packed. ``hex`` is the bytes it contributes (a bit field: its bits alone)."""

    index: int
    name: str | None
    type: str
    offset: int
    size: int
    bits: str | None
    source: str  # "value" or "expr"
    value: Any  # the constant, or what the expression returned
    raw: Any  # what was packed: the integer after enum/scale/rounding, the float, the bytes
    hex: str


@dataclass(frozen=True, slots=True)
class PayloadDescription:
    """A built payload and, field by field, why it looks as it does."""

    payload: bytes
    fields: tuple[PackedField, ...]

    @property
    def hex(self) -> str:
        return self.payload.hex().upper()

    def __iter__(self) -> Iterator[PackedField]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def format(self) -> str:
        """A small table for a dry-run printout."""
        rows = [("#", "offset", "type", "bits", "name", "value", "raw", "hex")]
        for f in self.fields:
            rows.append((str(f.index), str(f.offset), f.type, f.bits or "", f.name or "",
                         repr(f.value), repr(f.raw), f.hex))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines.append(f"payload {self.hex} ({len(self.payload)} bytes)")
        return "\n".join(lines)


def _where(field: PlacedField) -> str:
    """``fields[2] 'level' (u8)``; an unnamed field's label already shows its type."""
    if getattr(field.spec, "name", None):
        return f"{field.label} ({field.field_type.name})"
    return field.label


class _Member:
    """One field at build time."""

    __slots__ = ("field", "name", "source", "constant", "raw", "evaluate", "convert", "lo", "mask")

    def __init__(self, field: PlacedField, evaluate: Callable[[Mapping[str, Any]], Any] | None,
                 convert: Callable[[Any], Any], constant: Any, raw: Any) -> None:
        spec = field.spec
        assert isinstance(spec, PayloadField)
        self.field = field
        self.name = spec.name
        self.source = "expr" if evaluate is not None else "value"
        self.evaluate = evaluate
        self.convert = convert
        self.constant = constant
        self.raw = raw
        self.lo = field.bits.lo if field.bits is not None else 0
        self.mask = field.bits.mask if field.bits is not None else 0

    def value_and_raw(self, context: Mapping[str, Any]) -> tuple[Any, Any]:
        if self.evaluate is None:
            return self.constant, self.raw
        try:
            value = self.evaluate(context)
        except Exception as exc:  # a plugin operator may raise anything: name the field
            raise PayloadError(
                f"{_where(self.field)}: the expression failed: {exc}",
                index=self.field.index, name=self.name,
            ) from exc
        try:
            return value, self.convert(value)
        except (ValueError, TypeError) as exc:
            raise PayloadError(
                f"{_where(self.field)} value {value!r}: {exc}",
                index=self.field.index, name=self.name, value=value,
            ) from exc


class _Slot:
    """One word at build time: a plain field, or the bit fields sharing a word."""

    __slots__ = ("offset", "end", "pack", "members", "is_bits", "half", "span")

    def __init__(self, word: Word, members: list[_Member]) -> None:
        self.offset = word.offset
        self.end = word.end
        self.pack = word.codec.pack
        self.members = tuple(members)
        self.is_bits = word.is_bits
        width = word.codec.size * 8
        self.half = (1 << (width - 1)) if word.field_type.signed else 0
        self.span = 1 << width

    def word_value(self, bits: int) -> int:
        """The integer to pack for a word holding ``bits`` (two's complement for signed types)."""
        return bits - self.span if self.half and bits >= self.half else bits


class PayloadBuilder:
    """A compiled payload spec: ``build(context) -> bytes``."""

    __slots__ = ("spec", "length", "_slots")

    def __init__(self, spec: PayloadSpec, slots: list[_Slot], length: int) -> None:
        self.spec = spec
        self.length = length
        self._slots = tuple(slots)

    def build(self, context: Mapping[str, Any]) -> bytes:
        """The payload for ``context``; :class:`PayloadError` naming the field on a bad value."""
        buffer = bytearray(self.length)
        for slot in self._slots:
            if slot.is_bits:
                bits = 0
                for member in slot.members:
                    bits |= (member.value_and_raw(context)[1] & member.mask) << member.lo
                buffer[slot.offset:slot.end] = _pack(slot, slot.word_value(bits))
            else:
                buffer[slot.offset:slot.end] = _pack(slot, slot.members[0].value_and_raw(context)[1])
        return bytes(buffer)

    def describe(self, context: Mapping[str, Any]) -> PayloadDescription:
        """Build for ``context`` and report, field by field, what was packed."""
        buffer = bytearray(self.length)
        packed: list[PackedField] = []
        for slot in self._slots:
            bits = 0
            for member in slot.members:
                value, raw = member.value_and_raw(context)
                if slot.is_bits:
                    part = (raw & member.mask) << member.lo
                    bits |= part
                    data = _pack(slot, slot.word_value(part))
                else:
                    data = _pack(slot, raw)
                    buffer[slot.offset:slot.end] = data
                field = member.field
                packed.append(PackedField(
                    field.index, member.name, field.field_type.name, field.offset, field.codec.size,
                    None if field.bits is None else str(field.bits), member.source, value, raw, data.hex().upper(),
                ))
            if slot.is_bits:
                buffer[slot.offset:slot.end] = _pack(slot, slot.word_value(bits))
        packed.sort(key=lambda f: f.index)
        return PayloadDescription(bytes(buffer), tuple(packed))

    def __repr__(self) -> str:
        return f"PayloadBuilder(fields={len(self.spec.fields)}, length={self.length})"


def _pack(slot: _Slot, raw: Any) -> bytes:
    try:
        return slot.pack(raw)
    except Exception as exc:  # the conversion checked the range; a plugin codec may still refuse
        member = slot.members[0]  # a bit-field word is blamed on its first field
        raise PayloadError(
            f"{_where(member.field)}: cannot pack {raw!r}: {exc}",
            index=member.field.index, name=member.name, value=raw,
        ) from exc


def _inferred_lengths(spec: PayloadSpec, field_types: FieldTypeRegistry) -> list[int | None]:
    lengths: list[int | None] = []
    for index, field in enumerate(spec.fields):
        field_type = resolve_type(index, field, field_types)
        length = field.length
        if length is None and field_type.needs_length and field.is_constant and field_type.measure:
            try:
                length = field_type.measure(field.value)
            except (ValueError, TypeError) as exc:
                raise CodecSpecError(f"{field_label(index, field)}: value {field.value!r}: {exc}",
                                     index=index, name=field.name) from exc
            if length == 0:
                raise CodecSpecError(f"{field_label(index, field)}: value {field.value!r} is empty",
                                     index=index, name=field.name)
        lengths.append(length)
    return lengths


def compile_payload(
    spec: PayloadSpec | Mapping[str, Any], field_types: FieldTypeRegistry, compile_expr: ExprCompiler
) -> PayloadBuilder:
    """Validate and compile ``spec`` once; :class:`CodecSpecError` naming the field on any problem.

    Constants are converted here, so ``{type: u8, value: 300}`` fails at load time, not at send
    time. ``compile_expr`` turns each ``expr`` into a function of the build context.
    """
    payload_spec = load_payload_spec(spec)
    _placed, words = resolve_layout(payload_spec.fields, field_types, _inferred_lengths(payload_spec, field_types))
    slots: list[_Slot] = []
    for word in words:
        members: list[_Member] = []
        for field in word.members:
            members.append(_compile_member(field, compile_expr))
        slots.append(_Slot(word, members))
    length = max((word.end for word in words), default=0)
    return PayloadBuilder(payload_spec, slots, length)


def _compile_member(field: PlacedField, compile_expr: ExprCompiler) -> _Member:
    spec = field.spec
    assert isinstance(spec, PayloadField)
    convert = encode_converter(
        field.field_type, field.codec, bits=field.bits, scaling=Scaling(spec.scale, spec.add), enum=spec.enum
    )
    if not spec.is_constant:
        try:
            evaluate = compile_expr(spec.expr)
        except Exception as exc:
            raise CodecSpecError(f"{field.label}: invalid expr {spec.expr!r}: {exc}",
                                 index=field.index, name=spec.name) from exc
        if not callable(evaluate):
            raise CodecSpecError(f"{field.label}: the expression compiler returned {evaluate!r}, not a function",
                                 index=field.index, name=spec.name)
        return _Member(field, evaluate, convert, None, None)
    try:
        raw = convert(spec.value)
    except (ValueError, TypeError) as exc:
        raise CodecSpecError(f"{_where(field)} value {spec.value!r}: {exc}",
                             index=field.index, name=spec.name) from exc
    return _Member(field, None, convert, spec.value, raw)
