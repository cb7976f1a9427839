"""Bit ranges: the ``bits`` of a bit field, written ``7`` (one bit) or ``"4-7"`` (LO-HI, inclusive).

Bit 0 is the least significant bit of the integer the field's type unpacks, whatever the byte
order: ``bits: 0-3`` of a ``u8`` is the low nibble, of a ``u16_be`` the low nibble of the second
byte.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["BitRange"]

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


class BitRange(NamedTuple):
    """Bits ``lo`` to ``hi`` inclusive, bit 0 being the least significant."""

    lo: int
    hi: int

    @classmethod
    def parse(cls, spec: object) -> BitRange:
        """Parse ``7`` or ``"4-7"``; raise :class:`ValueError` with the accepted syntax."""
        if isinstance(spec, bool) or not isinstance(spec, (int, str)):
            raise ValueError(f"bits must be a bit number like 7 or a range LO-HI like 0-3, got {spec!r}")
        if isinstance(spec, int):
            lo = hi = spec
        else:
            match = _RANGE.match(spec)
            if match is None:
                raise ValueError(f"bits must be a bit number like 7 or a range LO-HI like 0-3, got {spec!r}")
            lo = int(match.group(1))
            hi = int(match.group(2)) if match.group(2) is not None else lo
        if lo < 0:
            raise ValueError(f"bits must not be negative, got {spec!r}")
        if hi < lo:
            raise ValueError(f"bits {spec!r}: write the low bit first, LO-HI (e.g. {hi}-{lo})")
        return cls(lo, hi)

    @property
    def length(self) -> int:
        return self.hi - self.lo + 1

    @property
    def mask(self) -> int:
        """The mask of ``length`` low bits (apply after shifting right by ``lo``)."""
        return (1 << self.length) - 1

    def overlaps(self, other: BitRange) -> bool:
        return self.lo <= other.hi and other.lo <= self.hi

    def __str__(self) -> str:
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"
