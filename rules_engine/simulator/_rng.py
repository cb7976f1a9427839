"""Counter-based deterministic randomness: a value is a pure function of (seed, labels...).

Nothing depends on the order in which the simulator happens to compute things, so lazy
catch-up in small or large steps gives identical fleets, and a million modules need no
per-module RNG state.
"""

from __future__ import annotations

import struct
import uuid
from hashlib import blake2b

__all__ = ["h64", "unit", "uniform", "randint", "uuid4_from", "Salt", "words", "seed64", "uuid4_words", "U32"]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


class Salt:
    """Labels that keep the random streams of different quantities independent."""

    PHASE = 1
    JITTER = 2
    GATEWAY = 3
    INGEST = 4
    UUID_A = 5
    UUID_B = 6
    TEMP_BASE = 7
    TEMP_NOISE = 8
    HUMIDITY = 9
    BUTTON = 10
    TAMPER = 11
    RAW = 12
    SIGNAL = 13
    LATE = 14
    CMD = 15
    LOSS = 16
    ACK = 17
    ACK_DELAY = 18
    FAULT = 19
    PHASE_DAY = 20
    HUM_BASE = 21
    BATTERY = 22


def _fmix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def h64(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 chained)."""
    z = 0
    for part in parts:
        z = _fmix((z + _GOLDEN + (part & _MASK)) & _MASK)
    return z


def unit(*parts: int) -> float:
    """A float in [0, 1) determined by ``parts``."""
    return (h64(*parts) >> 11) / 9007199254740992.0


def uniform(low: float, high: float, *parts: int) -> float:
    return low + (high - low) * unit(*parts)


def randint(low: int, high: int, *parts: int) -> int:
    """An int in [low, high] (inclusive) determined by ``parts``."""
    return low + h64(*parts) % (high - low + 1)


def uuid4_from(*parts: int) -> str:
    """A version-4 UUID string determined by ``parts``."""
    value = (h64(*parts, Salt.UUID_A) << 64) | h64(*parts, Salt.UUID_B)
    return str(uuid.UUID(int=value, version=4))


# -- fast path: one blake2b digest per (seed, labels...) gives 16 independent 32-bit words ------------
_WORDS = struct.Struct("<16I")
_SEED_MASK = (1 << 63) - 1
U32 = 4294967296.0


def words(*parts: int) -> tuple[int, ...]:
    """16 pseudo-random 32-bit words determined by ``parts`` (each a signed 64-bit int)."""
    return _WORDS.unpack(blake2b(struct.pack(f"<{len(parts)}q", *parts), digest_size=64).digest())


def seed64(seed: int) -> int:
    """A seed folded into a signed 64-bit range, as ``words`` needs."""
    return seed & _SEED_MASK


def uuid4_words(w: tuple[int, ...], i: int) -> str:
    """A version-4 UUID string from ``w[i:i+4]``."""
    value = (w[i] << 96) | (w[i + 1] << 64) | (w[i + 2] << 32) | w[i + 3]
    value = (value & ~(0xF000 << 64)) | (0x4000 << 64)
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
