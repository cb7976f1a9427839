"""The declarative ``struct`` decoder: :func:`compile_struct` turns a :class:`StructSpec` into a
:class:`StructDecoder` once; :meth:`StructDecoder.decode` then only runs precomputed steps.

Each step is one word: a bound ``unpack_from`` (a :class:`struct.Struct` method for the built-in
types), its offset, and the ``(name, convert)`` pairs it feeds (several for bit fields sharing a
word). A payload long enough for every field takes the fast path with no per-field checks;
a shorter one takes the slow path, which skips optional fields and names the first required field
that does not fit. Bytes after the last field are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rules_engine.codec.convert import Scaling, decode_converter
from rules_engine.codec.errors import DecodeError
from rules_engine.codec.fieldtypes import Buffer, FieldTypeRegistry, UnpackFrom
from rules_engine.codec.layout import PlacedField, resolve_layout
from rules_engine.codec.loading import load_struct_spec
from rules_engine.codec.specs import StructField, StructSpec

__all__ = ["StructDecoder", "compile_struct"]

_Target = tuple[str, Callable[[Any], Any] | None]
_Step = tuple[UnpackFrom, int, tuple[_Target, ...]]


class StructDecoder:
    """A compiled struct decoder. ``fields`` are the keys ``decode`` can return."""

    __slots__ = ("spec", "fields", "exhaustive", "length", "min_length", "_steps", "_short_steps", "_required")

    def __init__(
        self,
        spec: StructSpec,
        steps: list[_Step],
        short_steps: list[tuple[int, _Step]],
        required: list[tuple[int, int, str, str, int]],
    ) -> None:
        self.spec = spec
        self.fields: frozenset[str] = frozenset(field.name for field in spec.fields)
        self.exhaustive = True
        self._steps = tuple(steps)
        self._short_steps = tuple(short_steps)
        self._required = tuple(required)
        #: bytes needed to decode every field; shorter payloads take the slow path
        self.length = max((end for end, _step in short_steps), default=0)
        #: bytes needed to decode the required fields
        self.min_length = max((item[1] for item in required), default=0)

    def decode(self, payload: Buffer) -> dict[str, Any]:
        """Decode ``payload``; :class:`DecodeError` if it is too short for a required field."""
        if len(payload) < self.length:
            return self._decode_short(payload)
        out: dict[str, Any] = {}
        for unpack, offset, targets in self._steps:
            raw = unpack(payload, offset)[0]
            for name, convert in targets:
                out[name] = raw if convert is None else convert(raw)
        return out

    def _decode_short(self, payload: Buffer) -> dict[str, Any]:
        size = len(payload)
        if size < self.min_length:
            for _index, end, name, type_name, offset in self._required:
                if end > size:
                    raise DecodeError(
                        f"payload too short for field {name!r} ({type_name} at offset {offset}): "
                        f"needs {end} bytes, got {size}",
                        field=name,
                        offset=offset,
                    )
        out: dict[str, Any] = {}
        for end, (unpack, offset, targets) in self._short_steps:
            if end > size:
                continue  # only optional fields get here: the required ones fit, checked above
            raw = unpack(payload, offset)[0]
            for name, convert in targets:
                out[name] = raw if convert is None else convert(raw)
        return out

    def __repr__(self) -> str:
        return f"StructDecoder(fields={sorted(self.fields)}, length={self.length})"


def _converter(field: PlacedField) -> Callable[[Any], Any] | None:
    spec = field.spec
    assert isinstance(spec, StructField)
    return decode_converter(
        field.field_type,
        field.codec,
        name=spec.name,
        offset=field.offset,
        bits=field.bits,
        scaling=Scaling(spec.scale, spec.add),
        enum=spec.enum,
        unknown=spec.unknown,
    )


def compile_struct(spec: StructSpec | Mapping[str, Any], field_types: FieldTypeRegistry) -> StructDecoder:
    """Validate and compile ``spec`` (a :class:`StructSpec` or parsed YAML) once.

    Raises :class:`CodecSpecError` naming the field (``fields[3] 'flags': …``) on any problem.
    """
    struct_spec = load_struct_spec(spec)
    _placed, words = resolve_layout(struct_spec.fields, field_types)
    steps: list[_Step] = []
    short_steps: list[tuple[int, _Step]] = []
    required: list[tuple[int, int, str, str, int]] = []
    for word in words:
        optional_members = [m for m in word.members if _optional(m)]
        required_members = [m for m in word.members if not _optional(m)]
        for member in required_members:
            required.append((member.index, member.end, _name(member), member.field_type.name, member.offset))
        # A word feeds its required members and its optional members as separate short-path steps,
        # so a word shared by both kinds still honours each field's own `optional`.
        for group in (required_members, optional_members):
            if group:
                targets = tuple((_name(m), _converter(m)) for m in group)
                short_steps.append((word.end, (word.codec.unpack_from, word.offset, targets)))
    # The fast path reads each word once, in offset order, keeping declaration order in the dict.
    for word in words:
        members = sorted(word.members, key=lambda m: m.index)
        targets = tuple((_name(m), _converter(m)) for m in members)
        steps.append((word.codec.unpack_from, word.offset, targets))
    required.sort()  # by field index: the message names the first required field that does not fit
    return StructDecoder(struct_spec, steps, short_steps, required)


def _optional(field: PlacedField) -> bool:
    return bool(getattr(field.spec, "optional", False))


def _name(field: PlacedField) -> str:
    spec = field.spec
    assert isinstance(spec, StructField)
    return spec.name
