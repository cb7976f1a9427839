"""Turn validation failures into problems a user can act on: file:line:column, rule id, field,
what was expected, and a did-you-mean for misspelt names."""

from __future__ import annotations

import difflib
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from .source import DataPath, Located, SourceMap, format_path

__all__ = ["Problem", "LocatedValueError", "did_you_mean", "problems_from_validation", "allowed_keys"]


class LocatedValueError(ValueError):
    """Raised by a validator whose error is about one key below what it validates (``path``,
    relative to it, mapping keys as the YAML text reads them): the problem is then located at
    that key's value in the file, or, when ``path`` ends with ``"[key]"``, at the key itself."""

    def __init__(self, message: str, path: DataPath) -> None:
        super().__init__(message)
        self.path = tuple(path)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a rule file. ``severity`` is ``error`` or ``warning``."""

    where: Located
    message: str
    rule_id: str | None = None
    field: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        parts = [str(self.where)]
        if self.severity != "error":
            parts.append(self.severity)
        if self.rule_id:
            parts.append(f"rule '{self.rule_id}'")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts) + ": " + self.message


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else an empty string."""
    matches = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside ``X | None``, ``list[X]``, ``dict[str, X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, dict, tuple, typing.Annotated):
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None


def allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts at ``loc`` (a pydantic error location), aliases first."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return []
        if isinstance(part, int):
            continue
        field = next(
            (f for name, f in current.model_fields.items() if part in (name, f.alias)),
            None,
        )
        if field is None:
            continue
        current = _model_in(field.annotation)
    if current is None:
        return []
    return [field.alias or name for name, field in current.model_fields.items()]


#: What each of pydantic's type errors expected, in a rule author's words.
_EXPECTED = {
    "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number", "float_type": "a number",
    "float_parsing": "a number", "bool_type": "true or false", "bool_parsing": "true or false", "dict_type": "a mapping",
    "model_type": "a mapping", "model_attributes_type": "a mapping", "list_type": "a list", "none_required": "null",
    "path_type": "a file path (text)",
}
#: The names pydantic gives the members of a union in an error's location (``str``, ``dict[str,any]``...).
_UNION_MEMBER = re.compile(r"^(str|int|float|bool|none|bytes)$|^(dict|list|tuple|set|frozenset|literal|json-or-python|"
                           r"is-instance|nullable|chain)\[.*\]$")


def _readable(error: dict[str, Any]) -> str:
    kind = error["type"]
    message = error["msg"]
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {error.get('input')!r}"
    if kind in ("too_short", "too_long"):
        ctx = error.get("ctx") or {}
        bound = "at least" if kind == "too_short" else "at most"
        limit = ctx.get("min_length" if kind == "too_short" else "max_length")
        return f"needs {bound} {limit} item(s), got {ctx.get('actual_length')}"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if message.startswith("Assertion failed, "):
        message = message[len("Assertion failed, ") :]
    value = error.get("input")
    if kind == "missing":
        return "this field is required"
    if kind in ("int_type", "int_parsing", "float_type", "bool_type", "string_type", "list_type", "dict_type"):
        return f"{message.lower().rstrip('.')}, got {value!r}"
    if kind == "literal_error":
        return f"{message.lower()}, got {value!r}"
    return message


def problems_from_validation(
    exc: ValidationError,
    model: type[BaseModel],
    source: SourceMap,
    prefix: DataPath = (),
    rule_id: str | None = None,
) -> list[Problem]:
    """One :class:`Problem` per pydantic error, located in the YAML source."""
    problems: list[Problem] = []
    seen: set[tuple[DataPath, str]] = set()
    errors = exc.errors(include_url=False)
    for error in errors:
        error["loc"] = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith(("function-", "union["))))
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedValueError):
            error["loc"] += cause.path
    errors = _merge_union_members(errors)
    for error in errors:
        loc = error["loc"]
        path = prefix + tuple(loc)
        if error["type"] == "extra_forbidden":
            key = str(loc[-1]) if loc else "?"
            options = allowed_keys(model, loc[:-1])
            hint = did_you_mean(key, options)
            expected = f"; expected one of: {', '.join(options)}" if options and not hint else ""
            message = f"unknown key '{key}'{hint}{expected}"
            where = source.locate(path, key=True)
            field = format_path(prefix[2:] + tuple(loc[:-1])) if prefix[:1] == ("rules",) else format_path(loc[:-1])
        elif loc[-1:] == ("[key]",):  # a mapping's key, not its value, is wrong: point at the key
            message = f"key {loc[-2]!r}: {_readable(error)}" if len(loc) > 1 else _readable(error)
            where = source.locate(path[:-1], key=True)
            field = format_path(prefix[2:] + tuple(loc[:-2])) if prefix[:1] == ("rules",) else format_path(loc[:-2])
        else:
            message = _readable(error)
            where = source.locate(path)
            field = format_path(prefix[2:] + tuple(loc)) if prefix[:1] == ("rules",) else format_path(loc)
        marker = (path, message)
        if marker in seen:
            continue
        seen.add(marker)
        problems.append(Problem(where, message, rule_id, field or None))
    return problems


def _union_tag_index(loc: tuple[Any, ...]) -> int | None:
    return next((i for i, part in enumerate(loc) if isinstance(part, str) and _UNION_MEMBER.match(part)), None)


def _merge_union_members(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A value that no member of a union accepts gives one error per member, each located under
    the member's name (``module.str``, ``module.dict[str,any]``). They become one error in the
    author's words, "expected text or a mapping, got 12"; or, when the value had a member's shape
    but not its contents (a list with a bad item), that member's errors alone. A key that merely
    looks like a member's name (``headers: {str: ...}``) is told apart: the members of one union
    all failed on the same value, under distinct names."""
    groups: dict[tuple[Any, ...], list[tuple[dict[str, Any], int]]] = {}
    for error in errors:
        tag = _union_tag_index(error["loc"])
        if tag is not None:
            groups.setdefault(error["loc"][:tag], []).append((error, tag))
    replaced: dict[int, list[dict[str, Any]]] = {}
    for members in groups.values():
        shallow = [error for error, tag in members if len(error["loc"]) == tag + 1]
        names = {error["loc"][tag] for error, tag in members}
        if len(names) < 2 or any(error["input"] is not shallow[0]["input"] for error in shallow):
            continue  # not the members of one union: keys that look like member names
        deep = [{**error, "loc": error["loc"][:tag] + error["loc"][tag + 1:]} for error, tag in members if error not in shallow]
        if deep:
            kept = deep
        elif all(error["type"] in _EXPECTED for error in shallow):
            wanted = list(dict.fromkeys(_EXPECTED[error["type"]] for error in shallow))
            kept = [{**shallow[0], "loc": shallow[0]["loc"][:-1], "type": "union_type",
                     "msg": f"expected {' or '.join(wanted)}, got {shallow[0].get('input')!r}"}]
        else:
            kept = [{**error, "loc": error["loc"][:-1]} for error in shallow]
        replaced[id(members[0][0])] = kept
        for error, _tag in members[1:]:
            replaced[id(error)] = []
    merged: list[dict[str, Any]] = []
    for error in errors:
        merged.extend(replaced.get(id(error), [error]))
    return merged
