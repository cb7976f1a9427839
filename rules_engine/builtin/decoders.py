"""Built-in decoders (hex, raw, utf8, json, struct), registered as a plugin."""

from __future__ import annotations

from ..codec import DecoderType, FieldTypeRegistry, builtin_decoder_types
from ..hookspecs import hookimpl


@hookimpl
def register_decoders(field_types: FieldTypeRegistry) -> list[DecoderType]:
    return builtin_decoder_types(field_types)
