"""Validate spec data (parsed YAML) into specs, turning pydantic errors into :class:`CodecSpecError`.

Each problem is rendered with the field's index and name, e.g.
``fields[3] 'flags': unknown option 'colour'; did you mean 'scale'?``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from rules_engine.codec.errors import CodecSpecError
from rules_engine.codec.specs import PayloadSpec, StructSpec

__all__ = ["load_struct_spec", "load_payload_spec", "validation_message"]

SpecT = TypeVar("SpecT", bound=BaseModel)
_ELSEWHERE: Mapping[str, str] = MappingProxyType({
    "value": "payload (build) fields, not struct (decode) fields",
    "expr": "payload (build) fields, not struct (decode) fields",
    "optional": "struct (decode) fields, not payload (build) fields",
    "unknown": "struct (decode) fields, not payload (build) fields",
})
_UNION_TAGS = frozenset({"int", "float", "str", "bool"})  # pydantic tags union members in error locations


def load_struct_spec(data: StructSpec | Mapping[str, Any]) -> StructSpec:
    """A :class:`StructSpec` from parsed YAML; :class:`CodecSpecError` naming the field on error."""
    return _load(StructSpec, data, "struct")


def load_payload_spec(data: PayloadSpec | Mapping[str, Any]) -> PayloadSpec:
    """A :class:`PayloadSpec` from parsed YAML; :class:`CodecSpecError` naming the field on error."""
    return _load(PayloadSpec, data, "payload")


def _load(model: type[SpecT], data: SpecT | Mapping[str, Any], what: str) -> SpecT:
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        raise CodecSpecError(f"a {what} spec is a mapping with a 'fields' list, got {type(data).__name__}")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        message, index, name = validation_message(exc, data, model)
        if index is None:
            message = f"{what} spec: {message}"
        raise CodecSpecError(message, index=index, name=name) from exc


def _field_name(data: Mapping[str, Any], index: int) -> str | None:
    fields = data.get("fields")
    if isinstance(fields, list) and 0 <= index < len(fields) and isinstance(fields[index], Mapping):
        name = fields[index].get("name")
        if isinstance(name, str):
            return name
        kind = fields[index].get("type")
        return f"({kind})" if isinstance(kind, str) else None
    return None


def _item_model(model: type[BaseModel]) -> type[BaseModel]:
    """The model of the items of ``model.fields`` (``StructField`` for ``StructSpec``), else ``model``."""
    info = model.model_fields.get("fields")
    for arg in get_args(info.annotation) if info is not None else ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return model


def validation_message(
    exc: ValidationError, data: Mapping[str, Any], model: type[BaseModel]
) -> tuple[str, int | None, str | None]:
    """Render ``exc``, raised validating ``data`` as ``model``, as one message naming fields.

    Also return the index and name of the first field at fault.
    """
    field_model = _item_model(model)
    grouped: dict[tuple[Any, ...], list[str]] = {}
    first_index: int | None = None
    first_name: str | None = None
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if part not in _UNION_TAGS)
        index = loc[1] if len(loc) > 1 and loc[0] == "fields" and isinstance(loc[1], int) else None
        key = loc[2:] if index is not None else loc
        if error["type"] == "codec_duplicate":
            index, key = int(error["ctx"]["index"]), ()
        if index is not None and first_index is None:
            first_index, first_name = index, _field_name(data, index)
            if first_name is not None and first_name.startswith("("):
                first_name = None  # "(u8)": an unnamed field, labelled by its type
        if error["type"] == "codec_field":
            text = str(error["ctx"]["problem"])
        elif error["type"] == "codec_duplicate":
            text = f"the name is already used by fields[{error['ctx']['first']}]"
        elif error["type"] == "extra_forbidden" and key:
            option = str(key[-1])
            known = list(field_model.model_fields)
            close = difflib.get_close_matches(option, known, n=1, cutoff=0.5)
            if option in _ELSEWHERE and option not in known:
                hint = f"{option} belongs to {_ELSEWHERE[option]}"
            elif close:
                hint = f"did you mean {close[0]!r}?"
            else:
                hint = "known options: " + ", ".join(known)
            text = f"unknown option {option!r}; {hint}"
            key = key[:-1]
        elif error["type"] == "missing" and key:
            text = f"{key[-1]} is required"
            key = key[:-1]
        else:
            text = f"{error['msg'].removeprefix('Value error, ')} (got {error.get('input')!r})"
        grouped.setdefault((index, *key), [])
        if text not in grouped[(index, *key)]:
            grouped[(index, *key)].append(text)
    parts: list[str] = []
    for (index, *path), texts in grouped.items():
        where = ""
        if index is not None:
            name = _field_name(data, index)
            where = f"fields[{index}]" + (f" {name!r}" if name and not name.startswith("(") else (f" {name}" if name else ""))
        if path:
            where = (where + " " if where else "") + ".".join(str(k) for k in path)
        parts.append(f"{where}: {' / '.join(texts)}" if where else " / ".join(texts))
    return "; ".join(parts), first_index, first_name
