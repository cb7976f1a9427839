"""The decoder interface, the simple built-in decoders and the decoder type descriptions.

A decoder turns an uplink payload into the ``decoded`` dict rules read. The engine lists decoder
types (:class:`DecoderType`) and builds configured instances from YAML with
:meth:`DecoderType.build`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ValidationError

from rules_engine.codec.builtin_types import default_field_types
from rules_engine.codec.errors import CodecSpecError, DecodeError
from rules_engine.codec.fieldtypes import FieldTypeRegistry
from rules_engine.codec.loading import validation_message
from rules_engine.codec.specs import StructSpec
from rules_engine.codec.struct_decoder import compile_struct

__all__ = [
    "Decoder",
    "DecoderType",
    "HexDecoder",
    "RawDecoder",
    "Utf8Decoder",
    "JsonDecoder",
    "builtin_decoder_types",
]


@runtime_checkable
class Decoder(Protocol):
    """Turns a payload into a dict; raises :class:`DecodeError` when it cannot.

    ``fields`` are the keys ``decode`` declares (for the condition lint). ``exhaustive`` is true
    when ``decode`` never returns other keys (false for ``json``, whose objects carry any key).
    """

    fields: frozenset[str]
    exhaustive: bool

    def decode(self, payload: bytes) -> dict[str, Any]: ...


class HexDecoder:
    """``{"hex": "0117A4"}``: the payload as uppercase hex."""

    fields = frozenset({"hex"})
    exhaustive = True

    def decode(self, payload: bytes) -> dict[str, Any]:
        return {"hex": payload.hex().upper()}


class RawDecoder:
    """``{"bytes": [1, 23, 164]}``: the payload as a list of integers 0..255."""

    fields = frozenset({"bytes"})
    exhaustive = True

    def decode(self, payload: bytes) -> dict[str, Any]:
        return {"bytes": list(payload)}


def _utf8(payload: bytes, what: str) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"{what}: invalid UTF-8 at payload offset {exc.start} (byte {payload[exc.start]:02X})",
            offset=exc.start,
        ) from exc


class Utf8Decoder:
    """``{"text": "..."}``: the payload as UTF-8 text."""

    fields = frozenset({"text"})
    exhaustive = True

    def decode(self, payload: bytes) -> dict[str, Any]:
        return {"text": _utf8(payload, "utf8 decoder")}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class JsonDecoder:
    """A UTF-8 JSON payload: an object becomes the decoded dict, any other value ``{"value": …}``."""

    fields = frozenset({"value"})
    exhaustive = False

    def decode(self, payload: bytes) -> dict[str, Any]:
        text = _utf8(payload, "json decoder")
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise DecodeError(f"json decoder: invalid JSON at offset {exc.pos}: {exc.msg}", offset=exc.pos) from exc
        except ValueError as exc:
            raise DecodeError(f"json decoder: {exc}") from exc
        return value if isinstance(value, dict) else {"value": value}


@dataclass(frozen=True, slots=True)
class DecoderType:
    """A kind of decoder the engine can build from configuration.

    ``options`` is the pydantic model of its YAML options (``None``: it takes none); ``factory``
    builds a decoder from validated options.
    """

    name: str
    description: str
    options: type[BaseModel] | None
    factory: Callable[[Any], Decoder]

    def build(self, options: BaseModel | Mapping[str, Any] | None = None) -> Decoder:
        """A configured decoder. ``options`` may be the model or parsed YAML (validated here).

        Raises :class:`CodecSpecError` for options that do not validate.
        """
        if self.options is None:
            if options:
                raise CodecSpecError(f"decoder {self.name!r} takes no options, got {options!r}")
            return self.factory(None)
        if options is None:
            raise CodecSpecError(f"decoder {self.name!r} needs options ({self.options.__name__})")
        if isinstance(options, self.options):
            return self.factory(options)
        if not isinstance(options, Mapping):
            raise CodecSpecError(f"decoder {self.name!r}: options must be a mapping, got {type(options).__name__}")
        try:
            validated = self.options.model_validate(dict(options))
        except ValidationError as exc:
            message, index, name = validation_message(exc, options, self.options)
            raise CodecSpecError(f"decoder {self.name!r}: {message}", index=index, name=name) from exc
        return self.factory(validated)


def builtin_decoder_types(field_types: FieldTypeRegistry | None = None) -> list[DecoderType]:
    """The built-in decoder types; ``struct`` resolves field types in ``field_types``
    (default: a new :func:`default_field_types` registry)."""
    if field_types is None:
        field_types = default_field_types()

    def build_struct(spec: StructSpec) -> Decoder:
        return compile_struct(spec, field_types)

    return [
        DecoderType("hex", "the payload as uppercase hex: {hex: '0117A4'}", None, lambda _o: HexDecoder()),
        DecoderType("raw", "the payload as a list of byte values: {bytes: [1, 23, 164]}", None, lambda _o: RawDecoder()),
        DecoderType("utf8", "the payload as UTF-8 text: {text: '...'}", None, lambda _o: Utf8Decoder()),
        DecoderType("json", "a UTF-8 JSON payload: an object is the decoded dict, else {value: ...}", None,
                    lambda _o: JsonDecoder()),
        DecoderType("struct", "binary fields declared in YAML (see docs/payloads.md)", StructSpec, build_struct),
    ]
