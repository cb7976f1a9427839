"""The decode stage: the decoder an uplink gets, and what is recorded when decoding fails, the same
as the straightforward reading (``Decoding.run`` for every uplink) that ``Decoding.decode`` inlines."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

import pytest

from rules_engine.codec import compile_struct, default_field_types
from rules_engine.config import EngineConfig
from rules_engine.conductor import Uplink
from rules_engine.models import DecodedUplink
from rules_engine.pipeline.decode import Decoding, decoded_uplink

TOKEN, OTHER = "a" * 20, "b" * 20


class Raising:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def decode(self, payload: bytes) -> dict[str, Any]:
        raise self.exc


class Returning:
    def __init__(self, value: Any) -> None:
        self.value = value

    def decode(self, payload: bytes) -> Any:
        return self.value


class NoDecode:
    pass


def config(**ports: str) -> EngineConfig:
    return EngineConfig.model_validate({"app_tokens": {
        "plant": {"token": TOKEN, "decoder": "env", "ports": {int(port[1:]): name for port, name in ports.items()}},
        "bare": {"token": OTHER},
    }})


def uplink(port: int | None, payload: bytes = b"\x01\x00\x02", token: str | None = TOKEN) -> Uplink:
    return Uplink(uuid=f"u-{port}-{payload.hex()}", time=datetime(2026, 1, 1, tzinfo=timezone.utc), module="m",
                  port=port, payload=payload, app_token=token)


def reference(decoding: Decoding, item: Uplink) -> DecodedUplink:
    """``Decoding.decode`` before it inlined ``run``: the decoder name, then ``run`` for each uplink."""
    alias, name = decoding.decoder_name(item)
    decoded, error = decoding.run(name, item.payload)
    return DecodedUplink(uplink=item, app_token_alias=alias, decoder=name, decoded=decoded, decode_error=error)


DECODERS: dict[str, Any] = {
    "env": compile_struct({"fields": [{"name": "kind", "type": "u8"}, {"name": "value", "type": "u16_be", "scale": 0.5}]},
                          default_field_types()),
    "boom": Raising(RuntimeError("the sensor table is empty")),
    "named": Raising(ValueError("named: says its own name")),
    "listy": Returning([1, 2]),
    "nodecode": NoDecode(),
}


@pytest.mark.parametrize("item", [
    uplink(1), uplink(1, b"\x01"), uplink(None), uplink(2), uplink(3), uplink(4), uplink(5), uplink(6),
    uplink(1, token=OTHER), uplink(1, token=None), uplink(1, token="unknown"),
])
def test_decode_is_the_reference_reading(item: Uplink, caplog: pytest.LogCaptureFixture) -> None:
    decoding = Decoding(config(p2="boom", p3="named", p4="listy", p5="missing", p6="nodecode"), DECODERS)
    expected = reference(decoding, item)
    with caplog.at_level(logging.INFO, logger="rules_engine.decode"):
        for _ in range(2):  # the route is kept after the first uplink
            got = decoding.decode(item)
            assert got == expected and got.model_fields_set == expected.model_fields_set
            assert list(got.decoded.items()) == list(expected.decoded.items())
            fields = decoding.decode_fields(item)  # what the engine passes along instead of the model
            assert fields == dict(expected) and decoded_uplink(fields) == expected and decoded_uplink(fields).__dict__ is fields
    failures = [r for r in caplog.records if r.getMessage() == "decode failed"]
    assert len(failures) == (4 if expected.decode_error else 0)
    assert all(r.decoder == expected.decoder and r.error == expected.decode_error and r.uplink_uuid == item.uuid
               for r in failures)


def test_what_failures_record() -> None:
    decoding = Decoding(config(p2="boom", p3="named", p4="listy", p5="missing", p6="nodecode"), DECODERS)
    assert decoding.decode(uplink(1)).decoded == {"kind": 1, "value": 1.0}
    assert decoding.decode(uplink(1, b"\x01")).decode_error == (
        "env: DecodeError: payload too short for field 'value' (u16_be at offset 1): needs 3 bytes, got 1")
    assert decoding.decode(uplink(2)).decode_error == "boom: RuntimeError: the sensor table is empty"
    assert decoding.decode(uplink(3)).decode_error == "named: says its own name"
    assert decoding.decode(uplink(4)).decode_error == "listy: the decoder returned list, not a mapping"
    assert decoding.decode(uplink(5)).decode_error == "missing: KeyError: 'missing'"
    assert decoding.decode(uplink(6)).decode_error.startswith("nodecode: AttributeError: ")
    bare = decoding.decode(uplink(1, token=OTHER))
    assert (bare.app_token_alias, bare.decoder, bare.decoded, bare.decode_error) == ("bare", None, {}, None)
    assert all(item.decoded == {} for item in map(decoding.decode, [uplink(p) for p in range(2, 7)]))
