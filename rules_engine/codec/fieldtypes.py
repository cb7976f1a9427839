"""Field types (``u8``, ``i16_be``, ``float32_le``, ``bytes`` …) and the registry that holds them.

A :class:`FieldType` knows its size, how to read and write itself, and the range of values it can
hold. Reading and writing go through a :class:`FieldCodec`, an object shaped like a precompiled
:class:`struct.Struct` (``size``, ``unpack_from(buffer, offset)`` returning a 1-tuple,
``pack(raw)``), so the struct decoder can bind one ``unpack_from`` per field at compile time.

Types whose size depends on the field (``bytes``, ``ascii``, ``utf8``) have ``size=None`` and build
their codec from the field's ``length``.

The registry is created by :func:`rules_engine.codec.default_field_types`; built-in types are
registered with the same :meth:`FieldTypeRegistry.register` that plugins will use.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from rules_engine.errors import PluginError

__all__ = ["Buffer", "FieldKind", "FieldCodec", "FieldType", "FieldTypeRegistry", "UnpackFrom"]

_C_STYLE = re.compile(r"^(u)?int(\d+)(.*)$")  # uint16_be -> u16_be, int8 -> i8


class FieldKind(str, Enum):
    """What a field type holds; decides which spec options apply and how values are converted."""

    INT = "int"  # bits, scale/add, enum
    FLOAT = "float"  # scale/add
    BOOL = "bool"
    BYTES = "bytes"  # needs a length; decoded as uppercase hex
    TEXT = "text"  # needs a length; trailing NULs stripped


#: What decoders read: the payload bytes (or any bytes-like view of them).
Buffer = bytes | bytearray | memoryview


class UnpackFrom(Protocol):
    def __call__(self, buffer: Buffer, offset: int = 0, /) -> tuple[Any, ...]: ...


@dataclass(frozen=True, slots=True)
class FieldCodec:
    """How a field of one resolved size is read and written.

    ``unpack_from(buffer, offset)`` returns a tuple whose item 0 is the raw value (the
    :meth:`struct.Struct.unpack_from` contract). ``pack(raw)`` returns exactly ``size`` bytes.
    ``to_value`` turns a raw value into the decoded value (``None``: the raw value is the value);
    ``from_value`` turns a user value into a raw value for ``pack`` and raises :class:`ValueError`
    or :class:`TypeError` with a reason (``None``: the builder's numeric conversion for the kind,
    using the type's range, applies).
    """

    size: int
    unpack_from: UnpackFrom
    pack: Callable[[Any], bytes]
    to_value: Callable[[Any], Any] | None = None
    from_value: Callable[[Any], Any] | None = None


@dataclass(frozen=True, slots=True)
class FieldType:
    """A named field type.

    ``size`` is the size in bytes, or ``None`` when the field gives it (``length``).
    ``make_codec(size)`` builds the codec for that size. ``min_value``/``max_value`` bound what
    an ``INT`` or ``FLOAT`` type can pack; ``signed`` tells how bit fields of an ``INT`` type are
    sign-extended. ``measure(value)``, for types without a fixed size, gives the length a constant
    needs (so a payload field ``{type: bytes, value: CAFE}`` needs no ``length``); it raises
    :class:`ValueError` for a value the type cannot hold.
    """

    name: str
    kind: FieldKind
    size: int | None
    make_codec: Callable[[int], FieldCodec]
    min_value: int | float | None = None
    max_value: int | float | None = None
    signed: bool = False
    description: str = ""
    measure: Callable[[Any], int] | None = None

    @property
    def needs_length(self) -> bool:
        return self.size is None

    @property
    def bit_width(self) -> int | None:
        """The width in bits of an ``INT`` type (the range ``bits`` may address), else ``None``."""
        if self.kind is not FieldKind.INT or self.size is None:
            return None
        return self.size * 8

    def codec(self, length: int | None = None) -> FieldCodec:
        """The codec for a field of this type (``length`` for types without a fixed size)."""
        size = self.size if self.size is not None else length
        if size is None:
            raise ValueError(f"type {self.name!r} needs a length")
        return self.make_codec(size)


class FieldTypeRegistry:
    """Field types by name. Register each name once; a duplicate raises :class:`PluginError`."""

    def __init__(self) -> None:
        self._types: dict[str, FieldType] = {}
        self._owners: dict[str, str] = {}

    def register(self, field_type: FieldType, *, plugin: str = "builtin") -> None:
        """Add ``field_type``; ``plugin`` names who registers it (for the duplicate message)."""
        name = field_type.name
        if not name or not name.isidentifier():
            raise PluginError(
                f"plugin {plugin!r} registers a field type named {name!r}: a field type name must be an "
                "identifier such as 'u16_be'"
            )
        if name in self._types:
            raise PluginError(
                f"field type {name!r} from plugin {plugin!r} is already registered by "
                f"{self._owners[name]!r}: rename one of them"
            )
        self._types[name] = field_type
        self._owners[name] = plugin

    def get(self, name: str) -> FieldType | None:
        return self._types.get(name)

    def __getitem__(self, name: str) -> FieldType:
        try:
            return self._types[name]
        except KeyError:
            raise KeyError(self.unknown_message(name)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[FieldType]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        return list(self._types)

    def owner(self, name: str) -> str:
        """The plugin that registered ``name``."""
        return self._owners[name]

    def suggest(self, name: str) -> list[str]:
        """Registered names close to ``name`` (difflib), best first.

        C-style spellings are translated first: ``uint16`` looks for ``u16``, ``int8`` for
        ``i8``, ``float``/``double`` for ``float32``/``float64``.
        """
        lowered = name.lower()
        match = _C_STYLE.match(lowered)
        if match:
            lowered = ("u" if match.group(1) else "i") + match.group(2) + match.group(3)
        lowered = lowered.replace("double", "float64")
        if lowered.startswith("float") and not lowered[5:7].isdigit():
            lowered = "float32" + lowered[5:]
        found: list[str] = []
        if lowered in self._types:
            found.append(lowered)
        for candidate in difflib.get_close_matches(lowered, self._types, n=3, cutoff=0.5):
            if candidate not in found:
                found.append(candidate)
        return found[:3]

    def unknown_message(self, name: str) -> str:
        """``unknown type 'u61'; did you mean 'u16_be'?`` (or the list of known types)."""
        close = self.suggest(name)
        if close:
            hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
        else:
            hint = "known types: " + ", ".join(self._types)
        return f"unknown type {name!r}; {hint}"
