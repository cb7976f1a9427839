"""The codec's errors, defined in :mod:`rules_engine.errors` (the one exception tree)."""

from __future__ import annotations

from rules_engine.errors import CodecSpecError, DecodeError, PayloadError

__all__ = ["CodecSpecError", "DecodeError", "PayloadError"]
