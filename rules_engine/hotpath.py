"""Helpers for the per-uplink path (parse, decode, match, ledger rows).

:func:`trusted` builds a frozen pydantic model from values that are already valid:
``Model.model_construct`` costs ~10 µs for a model of a dozen fields and the hot path builds
several per uplink; this sets the same four slots ``model_construct`` sets and nothing else.
A caller that builds many instances of one model passes ``fields``, the set of field names made
once, which its instances share (pydantic never changes the fields set of a frozen model in place:
``model_copy`` copies it first).

:func:`gc_paused` holds the cyclic garbage collector while a batch is processed.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import AbstractSet, Any, Iterator, TypeVar

from pydantic import BaseModel

__all__ = ["trusted", "gc_paused"]

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
# The setters of the four slots every model has (declared by BaseModel): calling them directly
# skips the attribute lookup ``object.__setattr__`` does for each (~25% of ``trusted``).
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def trusted(cls: type[M], values: dict[str, Any], fields: AbstractSet[str] | None = None) -> M:
    """An instance of ``cls`` whose fields are ``values`` (every field, no validation, no defaults).

    ``fields``, if given, must be the keys of ``values``, as a set shared by every instance built
    with it (a frozen model's fields set is only ever read or copied)."""
    model = _new(cls)
    _set_dict(model, values)
    _set_fields_set(model, set(values) if fields is None else fields)
    _set_extra(model, None)
    _set_private(model, None)
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
