"""Build frozen pydantic models from values that are already valid, without pydantic's machinery.

``Model.model_construct`` costs ~10 µs for a model of a dozen fields; the hot path builds
several per uplink. :func:`trusted` sets the same four slots ``model_construct`` sets and
nothing else. The caller passes every field, already of its declared type.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["trusted"]

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
