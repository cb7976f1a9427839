"""JSON on the per-uplink path: msgspec reads and orjson writes, with the standard library as the
fallback for what they refuse.

:func:`loads` parses Conductor's response bodies (an uplink page is read by its own typed
decoder, ``conductor._uplink_page``; this reads every other body, and any page of another
shape); :func:`dumps` writes the ledger's JSON columns (decoded fields, signal, modifier and
device state). Both accept at least what ``json`` accepts, and ``loads`` gives what ``json.loads``
gives for bytes: a body msgspec rejects (``NaN``, lone surrogates, encoded or escaped) goes
through ``json``. (orjson is not
used to read: it reads an integer past 64 bits as a float, losing digits, without an error.)
A value orjson cannot write (integers past 64 bits) goes through ``json``. Two differences
remain, on write: the text is compact (no spaces after ``,`` and ``:``) and a non-finite float
(NaN, ±inf) is written as ``null`` (``json`` writes ``NaN``, which is not JSON).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import orjson

from .hotpath import gc_paused

__all__ = ["loads", "dumps"]

# Text keys only: ``OPT_NON_STR_KEYS`` costs ~1.4k instructions a call even when every key is
# text, so it is asked for only when a dict has another key (orjson then refuses the first try).
_TEXT_KEYS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_ANY_KEYS = _TEXT_KEYS | orjson.OPT_NON_STR_KEYS
_STDLIB = json.JSONEncoder(default=str, separators=(",", ":"))
_STDLIB_SORTED = json.JSONEncoder(default=str, separators=(",", ":"), sort_keys=True)
_DECODER = msgspec.json.Decoder()


def loads(data: bytes | str) -> Any:
    """A response body; the cyclic collector is held meanwhile (a page of 500 uplinks is ~15k
    containers, which would otherwise trigger a score of collections while it is built)."""
    with gc_paused():
        try:
            return _DECODER.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError):  # UnicodeDecodeError: an encoded surrogate, which json reads
            return json.loads(data)


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON text; what JSON cannot hold is written as ``str(value)``, as ``json.dumps(..., default=str)`` does."""
    if not sort_keys:
        try:
            return orjson.dumps(value, str, _TEXT_KEYS).decode()
        except orjson.JSONEncodeError:
            pass
    try:
        return orjson.dumps(value, str, _ANY_KEYS | orjson.OPT_SORT_KEYS if sort_keys else _ANY_KEYS).decode()
    except orjson.JSONEncodeError:
        return (_STDLIB_SORTED if sort_keys else _STDLIB).encode(value)
