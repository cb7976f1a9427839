"""Example local plugin: a decoder for a (fictitious) vendor's GPS tracker payload.

Drop a file like this into the engine's ``plugins_dir`` and name the decoder in the config:

    decoders:
      tracker: {type: acme-tracker, coordinates_scale: 1.0e-7}

Payload, 11 bytes, big-endian: ``latitude i32, longitude i32, battery u8 (%), flags u8,
satellites u8``; flags bit 0 = moving, bit 1 = SOS button.
"""

from __future__ import annotations

import struct
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rules_engine import hookimpl
from rules_engine.codec import DecoderType
from rules_engine.errors import DecodeError

_LAYOUT = struct.Struct(">iiBBB")


class TrackerOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    coordinates_scale: float = Field(default=1e-7, gt=0)


class AcmeTrackerDecoder:
    fields = frozenset({"latitude", "longitude", "battery_pct", "moving", "sos", "satellites"})
    exhaustive = True

    def __init__(self, options: TrackerOptions) -> None:
        self.scale = options.coordinates_scale

    def decode(self, payload: bytes) -> dict[str, Any]:
        if len(payload) < _LAYOUT.size:
            raise DecodeError(f"acme-tracker needs {_LAYOUT.size} bytes, got {len(payload)}")
        lat, lon, battery, flags, satellites = _LAYOUT.unpack_from(payload)
        return {
            "latitude": round(lat * self.scale, 7),
            "longitude": round(lon * self.scale, 7),
            "battery_pct": battery,
            "moving": bool(flags & 0x01),
            "sos": bool(flags & 0x02),
            "satellites": satellites,
        }


@hookimpl
def register_decoders() -> list[DecoderType]:
    return [
        DecoderType(
            "acme-tracker",
            "ACME GPS tracker v2: latitude, longitude, battery, moving/SOS flags, satellites",
            TrackerOptions,
            AcmeTrackerDecoder,
        )
    ]
