"""Payload codec: decode uplink payloads and build downlink payloads from YAML, never code.

- Field types (``u8`` … ``float64_le``, ``bytes``, ``ascii``, ``utf8``, ``bool``) live in a
  :class:`FieldTypeRegistry` made by :func:`default_field_types`; plugins register more.
- Decoders (``hex``, ``raw``, ``utf8``, ``json``, ``struct``) share the :class:`Decoder` protocol;
  :func:`builtin_decoder_types` describes them for the engine.
- :func:`compile_struct` compiles a :class:`StructSpec`; :func:`compile_payload` compiles its
  mirror image, a :class:`PayloadSpec`, into a :class:`PayloadBuilder`.

The syntax is documented in ``docs/payloads.md``.
"""

from __future__ import annotations

from rules_engine.codec.bitrange import BitRange
from rules_engine.codec.builder import (
    ExprCompiler,
    PackedField,
    PayloadBuilder,
    PayloadDescription,
    compile_payload,
)
from rules_engine.codec.builtin_types import default_field_types
from rules_engine.codec.decoders import (
    Decoder,
    DecoderType,
    HexDecoder,
    JsonDecoder,
    RawDecoder,
    Utf8Decoder,
    builtin_decoder_types,
)
from rules_engine.codec.errors import CodecSpecError, DecodeError, PayloadError
from rules_engine.codec.fieldtypes import FieldCodec, FieldKind, FieldType, FieldTypeRegistry
from rules_engine.codec.loading import load_payload_spec, load_struct_spec
from rules_engine.codec.specs import PayloadField, PayloadSpec, StructField, StructSpec
from rules_engine.codec.struct_decoder import StructDecoder, compile_struct

__all__ = [
    # errors
    "CodecSpecError",
    "DecodeError",
    "PayloadError",
    # field types
    "FieldKind",
    "FieldCodec",
    "FieldType",
    "FieldTypeRegistry",
    "default_field_types",
    "BitRange",
    # specs
    "StructField",
    "StructSpec",
    "PayloadField",
    "PayloadSpec",
    "load_struct_spec",
    "load_payload_spec",
    # decoders
    "Decoder",
    "DecoderType",
    "HexDecoder",
    "RawDecoder",
    "Utf8Decoder",
    "JsonDecoder",
    "StructDecoder",
    "compile_struct",
    "builtin_decoder_types",
    # payload builder
    "ExprCompiler",
    "PayloadBuilder",
    "PackedField",
    "PayloadDescription",
    "compile_payload",
]
