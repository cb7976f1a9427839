"""Built-in payload field types (u8 … float64_le, bytes, ascii, utf8, bool), registered as a plugin."""

from __future__ import annotations

from ..codec import FieldType
from ..codec.builtin_types import builtin_field_types
from ..hookspecs import hookimpl


@hookimpl
def register_field_types() -> list[FieldType]:
    return list(builtin_field_types())
