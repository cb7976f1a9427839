"""The declarative ``struct`` decoder: :func:`compile_struct` turns a :class:`StructSpec` into a
:class:`StructDecoder` once; ``StructDecoder.decode`` then only runs precomputed steps.

Each step is one word: a bound ``unpack_from`` (a :class:`struct.Struct` method for the built-in
types), its offset, and the ``(name, convert)`` pairs it feeds (several for bit fields sharing a
word). A payload long enough for every field takes the fast path with no per-field checks;
a shorter one takes the slow path, which skips optional fields and names the first required field
that does not fit. Bytes after the last field are ignored.

For ``bytes``, the fast path is a function generated once per decoder (:func:`_generate`): the
words read by a :class:`struct.Struct` are read at once by a combined ``Struct`` (one per run of
words with one byte order), and the dict is one expression, with bit fields and scale/add as
inline arithmetic and the other conversions called, in the order of the steps. Other payload
types (``bytearray``, ``memoryview``) run the steps (:meth:`StructDecoder.run_steps`); both give
the same dict, and the same errors.
"""

from __future__ import annotations

import re
import struct
import sys
from collections.abc import Callable, Mapping
from typing import Any

from rules_engine.codec.convert import Constant, Scaling, decode_converter, decode_source
from rules_engine.codec.errors import DecodeError
from rules_engine.codec.fieldtypes import Buffer, FieldTypeRegistry, UnpackFrom
from rules_engine.codec.layout import PlacedField, resolve_layout
from rules_engine.codec.loading import load_struct_spec
from rules_engine.codec.specs import StructField, StructSpec

__all__ = ["StructDecoder", "compile_struct"]

_Target = tuple[str, Callable[[Any], Any] | None]
_Step = tuple[UnpackFrom, int, tuple[_Target, ...]]
#: A field's conversion as source over a variable (``decode_source`` bound to the field), or ``None``
_Source = Callable[[str, Constant], str | None]


class StructDecoder:
    """A compiled struct decoder. ``fields`` are the keys ``decode`` can return.

    ``decode(payload)`` decodes a payload; :class:`DecodeError` if it is too short for a required
    field. It is an attribute holding the function generated for this layout (a method would
    cost the pipeline a call per uplink).
    """

    __slots__ = ("spec", "fields", "exhaustive", "length", "min_length", "decode", "_steps", "_short_steps",
                 "_required")

    def __init__(
        self,
        spec: StructSpec,
        steps: list[_Step],
        short_steps: list[tuple[int, _Step]],
        required: list[tuple[int, int, str, str, int]],
        sources: Mapping[str, _Source] | None = None,
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
        self.decode: Callable[[Buffer], dict[str, Any]] = _generate(self, sources or {})

    def run_steps(self, payload: Buffer) -> dict[str, Any]:
        """What ``decode`` returns, step by step (the reference for the generated fast path)."""
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


# -- the generated fast path ------------------------------------------------------------------

# A struct format of one item: byte order, count, code.
_FORMAT = re.compile(r"([@=<>!]?)(\d*)([bB?cshHiIlLqQefd])")
_ORDER_FREE = frozenset("bB?cs")  # one-byte items: their value does not depend on the byte order


def _struct_item(unpack: UnpackFrom) -> tuple[str | None, str, int] | None:
    """``(byte order or None, item, size)`` of a step read by a :class:`struct.Struct` of one item
    in standard sizes (such as ``>h``, ``<I``, ``8s``), else ``None`` (the step reads by itself)."""
    owner = getattr(unpack, "__self__", None)
    if type(owner) is not struct.Struct or unpack != owner.unpack_from:
        return None
    match = _FORMAT.fullmatch(owner.format)
    if match is None:
        return None
    order, count, code = match.groups()
    if count and code != "s":
        return None  # several items
    if code in _ORDER_FREE:
        return None, count + code, owner.size
    if order in ("", "@"):
        return None  # native sizes and alignment
    if order == "=":
        order = "<" if sys.byteorder == "little" else ">"
    return ("<" if order == "<" else ">"), count + code, owner.size


def _generate(decoder: StructDecoder, sources: Mapping[str, _Source]) -> Callable[[Buffer], dict[str, Any]]:
    """The ``decode`` function of ``decoder``, e.g. for ``u8 a; i16_be t (scale 0.01); ascii s (4)``::

        def decode(payload):
            if type(payload) is not bytes or len(payload) < 7:
                return run_steps(payload)
            v0, v1, v2, = read1(payload, 0)
            return {'a': v0, 't': (v1 / k2), 's': c3(v2)}

    Words read by a ``Struct`` are read before the dict is built (the length is checked, so they
    cannot fail); any other word is read where its step comes, inside the dict expression, so the
    converters and the other readers run, and fail, in the order the steps do. A conversion that
    is plain arithmetic (``sources``) is written inline, any other is called.
    """
    namespace: dict[str, Any] = {"run_steps": decoder.run_steps}

    def constant(value: Any, prefix: str = "k") -> str:
        name = f"{prefix}{len(namespace)}"
        namespace[name] = value
        return name

    variables, reads = _combined_reads(decoder._steps, constant)
    entries: list[str] = []
    for index, (unpack, offset, targets) in enumerate(decoder._steps):
        variable = variables.get(index)
        for name, convert in targets:
            if variable is None:  # a word read by itself: here, once, for its first target
                variable = f"w{index}"
                raw = f"({variable} := {constant(unpack, 'unpack')}(payload, {offset})[0])"
            else:
                raw = variable
            value = raw
            if convert is not None:
                inline = sources[name](raw, constant) if name in sources and raw == variable else None
                value = inline if inline is not None else f"{constant(convert, 'c')}({raw})"
            entries.append(f"{name!r}: {value}")
    source = "\n".join([
        "def decode(payload):",
        f"    if type(payload) is not bytes or len(payload) < {decoder.length}:",
        "        return run_steps(payload)",
        *(f"    {line}" for line in reads),
        f"    return {{{', '.join(entries)}}}",
    ])
    exec(compile(source, f"<struct decoder {sorted(decoder.fields)}>", "exec"), namespace)
    function: Callable[[Buffer], dict[str, Any]] = namespace["decode"]
    function.__doc__ = "Decode ``payload``; :class:`DecodeError` if it is too short for a required field."
    return function


def _combined_reads(steps: tuple[_Step, ...], constant: Callable[[Any, str], str]) -> tuple[dict[int, str], list[str]]:
    """The variable of each step read by a :class:`struct.Struct`, and the statements that read them:
    one combined ``Struct`` per run of such words (by offset) that agree on the byte order, gaps
    as pad bytes."""
    items = sorted((offset, index, *item) for index, (unpack, offset, _targets) in enumerate(steps)
                   if (item := _struct_item(unpack)) is not None)
    runs: list[tuple[str, int, list[tuple[int, int, str, int]]]] = []  # byte order, end, (offset, index, item, size)
    for offset, index, order, item, size in items:
        if runs:
            run_order, end, run = runs[-1]
            if offset >= end and (order is None or run_order == "" or order == run_order):
                runs[-1] = (run_order or order or "", offset + size, run)
                run.append((offset, index, item, size))
                continue
        runs.append((order or "", offset + size, [(offset, index, item, size)]))
    variables: dict[int, str] = {}
    reads: list[str] = []
    for order, end, run in runs:
        start = position = run[0][0]
        parts = [order or ">"]
        for offset, index, item, size in run:
            if offset > position:
                parts.append(f"{offset - position}x")
            parts.append(item)
            position = offset + size
            variables[index] = f"v{index}"
        combined = struct.Struct("".join(parts))
        if combined.size != end - start:  # standard sizes have no alignment: cannot happen
            raise AssertionError(f"{combined.format!r} is {combined.size} bytes, not {end - start}")
        names = "".join(f"{variables[index]}, " for _offset, index, _item, _size in run)
        reads.append(f"{names}= {constant(combined.unpack_from, 'read')}(payload, {start})")
    return variables, reads


def _source(field: PlacedField) -> _Source:
    spec = field.spec
    assert isinstance(spec, StructField)

    def source(raw: str, constant: Constant) -> str | None:
        return decode_source(field.field_type, field.codec, raw, constant, bits=field.bits,
                             scaling=Scaling(spec.scale, spec.add), enum=spec.enum)

    return source


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
    placed, words = resolve_layout(struct_spec.fields, field_types)
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
    sources = {_name(field): _source(field) for field in placed}
    return StructDecoder(struct_spec, steps, short_steps, required, sources)


def _optional(field: PlacedField) -> bool:
    return bool(getattr(field.spec, "optional", False))


def _name(field: PlacedField) -> str:
    spec = field.spec
    assert isinstance(spec, StructField)
    return spec.name
