"""Data access: the ``var``, ``missing`` and ``missing_some`` semantics of json-logic-js.

``{"var": "a.b.0"}`` converts its path with ToString, splits it on ``.`` and walks the data one
property access at a time. An absent property, or ``null`` met before the last step, yields the
default (``null`` unless given); a ``null`` found at the end is returned as ``null``.

Property access follows JavaScript for JSON values: an object's own keys, an array's canonical
indices (``"0"``, ``"12"``; not ``"01"``) and ``length``, a string's UTF-16 code units and
``length``. Inherited JavaScript properties (``constructor``, ``toString``...) are treated as
absent: json-logic-js would return a function there, which no condition can use.
"""

from __future__ import annotations

from typing import Any, Final

from rules_engine.conditions.jsvalues import js_ge, to_string, utf16_length

__all__ = [
    "MISSING",
    "split_path",
    "get_property",
    "step",
    "step_or_missing",
    "lookup",
    "is_missing_value",
    "missing_keys",
    "missing_some",
]


class _Missing:
    """The marker for an absent property (JavaScript ``undefined`` while walking a path)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def split_path(path: Any) -> tuple[str, ...] | None:
    """The property names of a ``var`` path, or ``None`` for "the data itself" (``""``/null)."""
    if path is None or path == "" or path is MISSING:
        return None
    return tuple(to_string(path).split("."))


def _array_index(key: str) -> int | None:
    if key.isdigit() and key.isascii() and (key == "0" or key[0] != "0"):
        return int(key)
    return None


def get_property(value: Any, key: str) -> Any:
    """``value[key]`` for a JSON value, or :data:`MISSING` when JavaScript would give undefined."""
    cls = type(value)
    if cls is dict:
        return value.get(key, MISSING)
    if cls is list:
        if key == "length":
            return len(value)
        index = _array_index(key)
        if index is not None and index < len(value):
            return value[index]
        return MISSING
    if cls is str:
        if key == "length":
            return utf16_length(value)
        index = _array_index(key)
        if index is None:
            return MISSING
        if value.isascii():
            return value[index] if index < len(value) else MISSING
        units = value.encode("utf-16-be", "surrogatepass")
        if 2 * index >= len(units):
            return MISSING
        return units[2 * index : 2 * index + 2].decode("utf-16-be", "surrogatepass")
    return MISSING


def step(value: Any, key: str) -> Any:
    """One step of a path walk where absence and ``null`` both continue as ``None``."""
    if value is None or value is MISSING:
        return None
    found = get_property(value, key)
    return None if found is MISSING else found


def step_or_missing(value: Any, key: str) -> Any:
    """The last step of a path walk that has a default: :data:`MISSING` when not found."""
    if value is None or value is MISSING:
        return MISSING
    return get_property(value, key)


def lookup(data: Any, keys: tuple[str, ...] | None, default: Any = None) -> Any:
    """The value at ``keys`` in ``data`` (``var`` semantics), else ``default``."""
    if keys is None:
        return data
    for key in keys:
        if data is None:
            return default
        data = get_property(data, key)
        if data is MISSING:
            return default
    return data


def is_missing_value(value: Any) -> bool:
    """``missing`` treats absent, ``null`` and ``""`` as missing (``0`` and ``false`` are present)."""
    return value is None or (type(value) is str and value == "")


def _key_value(data: Any, key: Any) -> Any:
    # json-logic-js evaluates {"var": key}: an array key is read as [path, default].
    if type(key) is list:
        path = key[0] if key else None
        default = key[1] if len(key) > 1 else None
        return lookup(data, split_path(path), default)
    return lookup(data, split_path(key))


def missing_keys(data: Any, *args: Any) -> list[Any]:
    """``missing``: the keys (from the arguments, or from a first argument that is an array)
    whose value is absent, null or the empty string."""
    keys = args[0] if args and type(args[0]) is list else args
    return [key for key in keys if is_missing_value(_key_value(data, key))]


def missing_some(data: Any, need: Any, options: Any) -> list[Any]:
    """``missing_some``: ``[]`` when at least ``need`` of ``options`` are present, else the
    missing ones."""
    keys = options if type(options) is list else [options]
    absent = missing_keys(data, *keys)
    present = len(keys) - len(absent)
    return [] if js_ge(present, need) else absent
