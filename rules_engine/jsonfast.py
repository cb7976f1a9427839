"""JSON on the per-uplink path: orjson, with the standard library as the fallback for what orjson refuses.

:func:`loads` parses Conductor's response bodies; :func:`dumps` writes the ledger's JSON columns
(decoded fields, signal, modifier and device state). Both accept at least what ``json`` accepts:
a body orjson rejects (``NaN``, integers past 64 bits) or a value it cannot write (integers past
64 bits) goes through ``json``. Two differences remain, on write: the text is compact (no spaces
after ``,`` and ``:``) and a non-finite float (NaN, ±inf) is written as ``null`` (``json`` writes
``NaN``, which is not JSON).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from .hotpath import gc_paused

__all__ = ["loads", "dumps"]

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_SORTED = _OPTIONS | orjson.OPT_SORT_KEYS
_STDLIB = json.JSONEncoder(default=str, separators=(",", ":"))
_STDLIB_SORTED = json.JSONEncoder(default=str, separators=(",", ":"), sort_keys=True)


def loads(data: bytes | str) -> Any:
    """A response body; the cyclic collector is held meanwhile (a page of 500 uplinks is ~15k
    containers, which would otherwise trigger a score of collections while it is built)."""
    with gc_paused():
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return json.loads(data)


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON text; what JSON cannot hold is written as ``str(value)``, as ``json.dumps(..., default=str)`` does."""
    try:
        return orjson.dumps(value, default=str, option=_SORTED if sort_keys else _OPTIONS).decode()
    except orjson.JSONEncodeError:
        return (_STDLIB_SORTED if sort_keys else _STDLIB).encode(value)
