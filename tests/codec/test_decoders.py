"""The hex, raw, utf8 and json decoders; decoder type descriptions."""

from __future__ import annotations

import pytest

from rules_engine.codec import (
    CodecSpecError,
    DecodeError,
    Decoder,
    DecoderType,
    FieldTypeRegistry,
    HexDecoder,
    JsonDecoder,
    RawDecoder,
    StructDecoder,
    StructSpec,
    Utf8Decoder,
    builtin_decoder_types,
    compile_struct,
    default_field_types,
)


def test_hex() -> None:
    assert HexDecoder().decode(bytes.fromhex("0117a4")) == {"hex": "0117A4"}
    assert HexDecoder().decode(b"") == {"hex": ""}
    assert HexDecoder().fields == frozenset({"hex"})


def test_raw() -> None:
    assert RawDecoder().decode(bytes.fromhex("0117A4")) == {"bytes": [1, 23, 164]}
    assert RawDecoder().decode(b"") == {"bytes": []}
    assert RawDecoder().fields == frozenset({"bytes"})


def test_utf8() -> None:
    assert Utf8Decoder().decode("t=21.5\u00b0C".encode()) == {"text": "t=21.5\u00b0C"}
    assert Utf8Decoder().decode(b"") == {"text": ""}


def test_utf8_invalid_names_the_offset() -> None:
    with pytest.raises(DecodeError) as info:
        Utf8Decoder().decode(b"ok\xff!")
    assert "invalid UTF-8 at payload offset 2" in str(info.value) and "FF" in str(info.value)
    assert info.value.offset == 2


def test_json_object_becomes_the_decoded_dict() -> None:
    assert JsonDecoder().decode(b'{"t": 21.5, "ok": true, "tags": ["a"]}') == {"t": 21.5, "ok": True, "tags": ["a"]}


@pytest.mark.parametrize(("payload", "value"), [(b"[1, 2]", [1, 2]), (b"42", 42), (b'"hi"', "hi"), (b"null", None),
                                                (b" true ", True)])
def test_json_non_object_becomes_value(payload: bytes, value: object) -> None:
    assert JsonDecoder().decode(payload) == {"value": value}


@pytest.mark.parametrize(("payload", "message"), [
    (b'{"t": 21.5', "invalid JSON at offset"),
    (b"", "invalid JSON at offset 0"),
    (b"NaN", "NaN is not JSON"),
    (b'{"t": Infinity}', "Infinity is not JSON"),
    (b'{"t": "\xff"}', "invalid UTF-8 at payload offset 7"),
])
def test_json_invalid(payload: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        JsonDecoder().decode(payload)


def test_json_declares_it_is_open() -> None:
    assert JsonDecoder().fields == frozenset({"value"}) and JsonDecoder().exhaustive is False


def test_every_decoder_satisfies_the_protocol(field_types: FieldTypeRegistry) -> None:
    decoders: list[object] = [HexDecoder(), RawDecoder(), Utf8Decoder(), JsonDecoder(),
                              compile_struct({"fields": [{"name": "a", "type": "u8"}]}, field_types)]
    for decoder in decoders:
        assert isinstance(decoder, Decoder)


def test_builtin_decoder_types() -> None:
    types = {t.name: t for t in builtin_decoder_types()}
    assert list(types) == ["hex", "raw", "utf8", "json", "struct"]
    assert all(isinstance(t, DecoderType) and t.description for t in types.values())
    assert types["struct"].options is StructSpec
    assert all(types[name].options is None for name in ("hex", "raw", "utf8", "json"))
    assert types["hex"].build().decode(b"\x01") == {"hex": "01"}
    assert types["json"].build(None).decode(b"{}") == {}


def test_struct_decoder_type_builds_from_yaml_options() -> None:
    struct_type = {t.name: t for t in builtin_decoder_types()}["struct"]
    decoder = struct_type.build({"fields": [{"name": "kind", "type": "u8"}, {"name": "t", "type": "i16_be", "scale": 0.1}]})
    assert isinstance(decoder, StructDecoder)
    assert decoder.decode(bytes.fromhex("01FF9C")) == {"kind": 1, "t": -10.0}
    spec = StructSpec.model_validate({"fields": [{"name": "kind", "type": "u8"}]})
    assert struct_type.build(spec).fields == frozenset({"kind"})


def test_struct_decoder_type_uses_the_given_registry() -> None:
    registry = default_field_types()
    from tests.codec.test_field_types import _i24_be

    registry.register(_i24_be(), plugin="acme")
    struct_type = {t.name: t for t in builtin_decoder_types(registry)}["struct"]
    assert struct_type.build({"fields": [{"name": "v", "type": "i24_be"}]}).decode(b"\xff\xff\xfe") == {"v": -2}
    with pytest.raises(CodecSpecError, match="unknown type 'i24_be'"):
        {t.name: t for t in builtin_decoder_types()}["struct"].build({"fields": [{"name": "v", "type": "i24_be"}]})


def test_decoder_type_option_errors() -> None:
    types = {t.name: t for t in builtin_decoder_types()}
    with pytest.raises(CodecSpecError, match="decoder 'hex' takes no options"):
        types["hex"].build({"upper": True})
    with pytest.raises(CodecSpecError, match="decoder 'struct' needs options"):
        types["struct"].build(None)
    with pytest.raises(CodecSpecError) as info:
        types["struct"].build({"fields": [{"name": "a", "type": "u8"}, {"name": "b", "type": "u8", "colour": 3}]})
    assert "decoder 'struct': fields[1] 'b': unknown option 'colour'" in str(info.value)
    with pytest.raises(CodecSpecError, match=r"fields\[0\] 'a': unknown type 'u9'"):
        types["struct"].build({"fields": [{"name": "a", "type": "u9"}]})
