"""Payloads of simulated uplinks (codec ``env-v1``) and the application-level ack convention.

``env-v1``, 8 bytes, big-endian (documented in docs/simulator.md)::

    byte 0     message type, 0x01 = telemetry v1
    bytes 1-2  temperature, int16, hundredths of a degree Celsius (0x0917 = 23.27 C)
    byte 3     relative humidity, uint8, percent
    bytes 4-5  battery voltage, uint16, millivolts
    byte 6     status bits: bit0 button pressed, bit1 tamper, bit2 low battery
    byte 7     uplink counter, uint8 (wraps at 256)

Ack replies: port 7, payload ``AC`` + the first 4 bytes of the received downlink payload,
right-padded with ``00`` when the downlink is shorter (``0000002A99`` -> ``AC0000002A``,
``2A`` -> ``AC2A000000``).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from rules_engine.simulator import _invented as inv
from rules_engine.simulator._rng import U32, words
from rules_engine.simulator.config import CodecConfig

__all__ = ["Telemetry", "encode_uplink", "decode_env_v1", "ack_payload", "MESSAGE_TELEMETRY_V1"]

MESSAGE_TELEMETRY_V1 = 0x01
STATUS_BUTTON = 0x01
STATUS_TAMPER = 0x02
STATUS_LOW_BATTERY = 0x04
_DAY_MS = 86_400_000


@dataclass(frozen=True)
class Telemetry:
    """The decoded fields of an ``env-v1`` payload."""

    temperature_c: float
    humidity_pct: int
    battery_mv: int
    status: int
    counter: int

    @property
    def button(self) -> bool:
        return bool(self.status & STATUS_BUTTON)

    @property
    def tamper(self) -> bool:
        return bool(self.status & STATUS_TAMPER)

    @property
    def low_battery(self) -> bool:
        return bool(self.status & STATUS_LOW_BATTERY)


def encode_uplink(codec: CodecConfig, mw: tuple[int, ...], uw: tuple[int, ...], n: int, time_ms: int) -> bytes:
    """The payload of the ``n``-th regular uplink of a module at ``time_ms``.

    ``mw``/``uw`` are the module's and the uplink's random words (``_rng.words``); the word
    slots used here are listed in ``uplinks.py``.
    """
    if codec.kind == "raw":
        raw = b"".join(struct.pack("<16I", *words(*uw[:4], i)) for i in range(codec.raw_length // 64 + 1))
        return raw[: codec.raw_length]
    low, high = codec.temperature_base_c
    base = low + (high - low) * mw[1] / U32
    daily = math.sin(2 * math.pi * ((time_ms % _DAY_MS) / _DAY_MS + mw[2] / U32))
    noise = codec.temperature_noise_c * (2 * uw[9] / U32 - 1)
    temperature = base + codec.temperature_amplitude_c * daily + noise
    h_low, h_high = codec.humidity_base_pct
    humidity = h_low + (h_high - h_low) * mw[3] / U32 - 10 * daily + 2 * (2 * uw[10] / U32 - 1)
    start = codec.battery_start_mv - 200 * mw[4] / U32
    battery = max(codec.battery_min_mv, int(start - codec.battery_drain_mv_per_uplink * n))
    status = 0
    if uw[11] / U32 < codec.button_probability:
        status |= STATUS_BUTTON
    if uw[12] / U32 < codec.tamper_probability:
        status |= STATUS_TAMPER
    if battery < codec.low_battery_mv:
        status |= STATUS_LOW_BATTERY
    centi = max(-32768, min(32767, round(temperature * 100)))
    return struct.pack(
        ">BhBHBB",
        MESSAGE_TELEMETRY_V1,
        centi,
        max(0, min(100, round(humidity))),
        battery,
        status,
        n & 0xFF,
    )


def decode_env_v1(payload: bytes | str) -> Telemetry:
    """Decode an ``env-v1`` payload (bytes or hex); raises ``ValueError`` for anything else."""
    data = bytes.fromhex(payload) if isinstance(payload, str) else payload
    if len(data) != 8 or data[0] != MESSAGE_TELEMETRY_V1:
        raise ValueError("not an env-v1 telemetry payload")
    _, centi, humidity, battery, status, counter = struct.unpack(">BhBHBB", data)
    return Telemetry(centi / 100, humidity, battery, status, counter)


def ack_payload(downlink: bytes) -> bytes:
    """``AC`` + the first 4 bytes of ``downlink``, right-padded with zero bytes."""
    echo = downlink[: inv.ACK_ECHO_BYTES].ljust(inv.ACK_ECHO_BYTES, b"\x00")
    return inv.ACK_PREFIX + echo
