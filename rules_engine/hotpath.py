"""Helpers for the per-uplink path (parse, decode, match, ledger rows).

:func:`trusted` builds a frozen pydantic model from values that are already valid:
``Model.model_construct`` costs ~10 µs for a model of a dozen fields and the hot path builds
several per uplink; this sets the same four slots ``model_construct`` sets and nothing else.

:func:`gc_paused` holds the cyclic garbage collector while a batch is processed.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Any, Iterator, TypeVar

from pydantic import BaseModel

__all__ = ["trusted", "gc_paused"]

M = TypeVar("M", bound=BaseModel)

_setattr = object.__setattr__
_new = object.__new__


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """An instance of ``cls`` whose fields are ``values`` (every field, no validation, no defaults)."""
    model = _new(cls)
    _setattr(model, "__dict__", values)
    _setattr(model, "__pydantic_fields_set__", set(values))
    _setattr(model, "__pydantic_extra__", None)
    _setattr(model, "__pydantic_private__", None)
    return model


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector for one batch. A batch allocates a few dozen objects
    per uplink, nearly all freed by reference counting, yet they trigger a collection every ~700
    allocations, each one scanning the engine's long-lived state (rules, modifier state): ~8% of
    the time per uplink. The collector resumes, and catches up, when the batch ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
