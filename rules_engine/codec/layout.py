"""Resolve a spec's fields against the field types: types, sizes, offsets, bit-field words.

Shared by the struct decoder and the payload builder, so a payload spec and a struct spec with
the same fields describe the same bytes.

Layout rules:

- A field with ``offset`` starts there. A field without one starts right after the previous
  field (the first at 0) …
- … except a bit field directly after a bit field of the same type: it shares that word.
  To start a new word of the same type, give ``offset`` (or put another field in between).
- Bit fields share a word when they have the same offset and the same type; their bit ranges
  must not overlap. Any other two fields must not share a byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from dataclasses import dataclass

from rules_engine.codec.bitrange import BitRange
from rules_engine.codec.errors import CodecSpecError
from rules_engine.codec.fieldtypes import FieldCodec, FieldKind, FieldType, FieldTypeRegistry
from rules_engine.codec.specs import FieldSpecBase

__all__ = ["PlacedField", "Word", "field_label", "resolve_type", "resolve_layout"]


@dataclass(frozen=True, slots=True)
class PlacedField:
    """A spec field with its type resolved and its place in the payload fixed."""

    index: int
    label: str  # "fields[3] 'flags'"
    spec: FieldSpecBase
    field_type: FieldType
    codec: FieldCodec
    offset: int
    bits: BitRange | None

    @property
    def end(self) -> int:
        return self.offset + self.codec.size


@dataclass(frozen=True, slots=True)
class Word:
    """Bytes read or written at once: one plain field, or the bit fields sharing a word."""

    offset: int
    field_type: FieldType
    codec: FieldCodec
    members: tuple[PlacedField, ...]

    @property
    def end(self) -> int:
        return self.offset + self.codec.size

    @property
    def is_bits(self) -> bool:
        return self.members[0].bits is not None


def field_label(index: int, spec: FieldSpecBase) -> str:
    name = getattr(spec, "name", None)
    return f"fields[{index}] {name!r}" if name else f"fields[{index}] ({spec.type})"


def _fail(index: int, spec: FieldSpecBase, problem: str) -> CodecSpecError:
    return CodecSpecError(f"{field_label(index, spec)}: {problem}", index=index, name=getattr(spec, "name", None))


def resolve_type(index: int, spec: FieldSpecBase, registry: FieldTypeRegistry) -> FieldType:
    """The field's type, or :class:`CodecSpecError` with a did-you-mean."""
    field_type = registry.get(spec.type)
    if field_type is None:
        raise _fail(index, spec, registry.unknown_message(spec.type))
    return field_type


def _check_options(index: int, spec: FieldSpecBase, field_type: FieldType, length: int | None) -> None:
    kind, name = field_type.kind, field_type.name
    if field_type.needs_length and length is None:
        raise _fail(index, spec, f"type {name!r} needs a length (bytes), e.g. length: 4")
    if not field_type.needs_length and spec.length is not None:
        raise _fail(index, spec, f"length applies to bytes/ascii/utf8 only; {name!r} is {field_type.size} bytes")
    if spec.bits is not None:
        if kind is not FieldKind.INT:
            raise _fail(index, spec, f"bits apply to integer types only, not to {name!r} ({kind.value})")
        bits = spec.bit_range
        width = field_type.bit_width or 0
        if bits is not None and bits.hi >= width:
            raise _fail(index, spec, f"bits {bits} are outside {name!r}, which has bits 0-{width - 1}")
    if spec.enum is not None and kind is not FieldKind.INT:
        raise _fail(index, spec, f"enum applies to integer types only, not to {name!r} ({kind.value})")
    if (spec.scale is not None or spec.add is not None) and kind not in (FieldKind.INT, FieldKind.FLOAT):
        option = "scale" if spec.scale is not None else "add"
        raise _fail(index, spec, f"{option} applies to numeric types only, not to {name!r} ({kind.value})")


def resolve_layout(
    specs: Sequence[FieldSpecBase],
    registry: FieldTypeRegistry,
    lengths: Sequence[int | None] | None = None,
) -> tuple[list[PlacedField], list[Word]]:
    """Place every field and group bit fields into words; raise :class:`CodecSpecError` on error.

    ``lengths`` overrides each spec's ``length`` (the payload builder infers it from constants).
    """
    placed: list[PlacedField] = []
    cursor = 0
    previous: PlacedField | None = None
    for index, spec in enumerate(specs):
        field_type = resolve_type(index, spec, registry)
        length = lengths[index] if lengths is not None else spec.length
        _check_options(index, spec, field_type, length)
        codec = field_type.codec(length)
        bits = spec.bit_range
        if spec.offset is not None:
            offset = spec.offset
        elif (
            bits is not None
            and previous is not None
            and previous.bits is not None
            and previous.field_type is field_type
        ):
            offset = previous.offset
        else:
            offset = cursor
        field = PlacedField(index, field_label(index, spec), spec, field_type, codec, offset, bits)
        placed.append(field)
        cursor = field.end
        previous = field
    return placed, _group(placed)


def _group(placed: list[PlacedField]) -> list[Word]:
    words: list[Word] = []
    by_key: dict[tuple[int, str], int] = {}
    for field in placed:
        key = (field.offset, field.field_type.name)
        if field.bits is not None and key in by_key:
            word = words[by_key[key]]
            for other in word.members:
                if other.bits is not None and other.bits.overlaps(field.bits):
                    raise _fail(
                        field.index,
                        field.spec,
                        f"bits {field.bits} overlap bits {other.bits} of {other.label} in the "
                        f"{field.field_type.name} word at offset {field.offset}; give this field an "
                        "offset to start a new word",
                    )
            words[by_key[key]] = Word(word.offset, word.field_type, word.codec, (*word.members, field))
            continue
        if field.bits is not None:
            by_key[key] = len(words)
        words.append(Word(field.offset, field.field_type, field.codec, (field,)))
    ordered = sorted(words, key=lambda w: (w.offset, w.members[0].index))
    for before, after in pairwise(ordered):
        if after.offset < before.end:
            first, second = sorted((before.members[0], after.members[0]), key=lambda f: f.index)
            extra = ""
            if first.bits is not None and second.bits is not None:
                extra = " (bit fields share a word only with the same offset and the same type)"
            raise _fail(
                second.index,
                second.spec,
                f"bytes {second.offset}-{second.end - 1} overlap bytes {first.offset}-{first.end - 1} "
                f"of {first.label}{extra}",
            )
    return words
