"""The YAML-facing specs: :class:`StructSpec` (decode) and :class:`PayloadSpec` (build).

Both are lists of fields sharing one syntax (``type``, ``offset``, ``bits``, ``length``,
``scale``, ``add``, ``enum``); a struct field adds ``name`` (required), ``optional`` and
``unknown``, a payload field adds ``value`` or ``expr``. What can be checked without the field
type registry is checked here, in pydantic validators whose messages name the field; the rest
(type names, sizes, bit widths, overlaps) is checked when the spec is compiled.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rules_engine.codec.bitrange import BitRange

__all__ = ["FieldSpecBase", "StructField", "StructSpec", "PayloadField", "PayloadSpec", "NAME_PATTERN"]

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_NAME = re.compile(NAME_PATTERN)

Number = StrictInt | StrictFloat


def field_problem(label: str, problem: str) -> PydanticCustomError:
    """A validation error of one field; :func:`~rules_engine.codec.loading.validation_message` adds its index."""
    return PydanticCustomError("codec_field", "field {label}: {problem}", {"label": label, "problem": problem})


class FieldSpecBase(BaseModel):
    """The options shared by struct and payload fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: StrictStr = Field(description="a field type name: u8, i16_be, float32_le, bytes, ascii, …")
    offset: StrictInt | None = Field(
        default=None, ge=0, description="byte offset; absent: right after the previous field"
    )
    bits: StrictInt | StrictStr | None = Field(
        default=None, description="bit field within the type's integer: 7 or LO-HI such as 0-3 (bit 0 = LSB)"
    )
    length: StrictInt | None = Field(default=None, ge=1, description="size in bytes of bytes/ascii/utf8 fields")
    scale: Number | None = Field(default=None, description="decoded = raw * scale + add")
    add: Number | None = Field(default=None, description="decoded = raw * scale + add")
    enum: dict[int, StrictStr] | None = Field(default=None, description="raw integer -> label")

    def label(self) -> str:
        return repr(getattr(self, "name", None) or self.type)

    @property
    def bit_range(self) -> BitRange | None:
        """The parsed ``bits`` (validated when the model was built)."""
        return None if self.bits is None else BitRange.parse(self.bits)

    def _problems(self) -> list[str]:
        problems: list[str] = []
        if self.bits is not None:
            try:
                BitRange.parse(self.bits)
            except ValueError as exc:
                problems.append(str(exc))
        if self.scale is not None and (self.scale == 0 or not math.isfinite(self.scale)):
            problems.append(f"scale must be a finite nonzero number, got {self.scale!r}")
        if self.add is not None and not math.isfinite(self.add):
            problems.append(f"add must be a finite number, got {self.add!r}")
        if self.enum is not None:
            if not self.enum:
                problems.append("enum must map at least one raw value to a label")
            if self.scale is not None or self.add is not None:
                problems.append("enum maps raw integers: it cannot be combined with scale or add")
            labels = list(self.enum.values())
            duplicates = sorted({label for label in labels if labels.count(label) > 1})
            if duplicates:
                problems.append(f"enum labels must be unique (a payload maps them back), repeated: {duplicates}")
        return problems

    def _check(self, extra: list[str]) -> None:
        problems = self._problems() + extra
        if problems:
            raise field_problem(self.label(), "; ".join(problems))


class StructField(FieldSpecBase):
    """One field of a struct decoder. The decoded dict gets a key ``name``."""

    name: StrictStr = Field(description="the key in the decoded dict (an identifier)")
    optional: StrictBool = Field(default=False, description="absent, not an error, when the payload is too short")
    unknown: StrictStr | None = Field(default=None, description="label for raw values missing from enum")

    @model_validator(mode="after")
    def _validate(self) -> StructField:
        extra: list[str] = []
        if not _NAME.match(self.name):
            extra.append("name must be an identifier (letters, digits, _; no dots), got " + repr(self.name))
        if self.unknown is not None and self.enum is None:
            extra.append("unknown is the label for values missing from enum: it needs an enum")
        self._check(extra)
        return self


class StructSpec(BaseModel):
    """A declarative struct decoder: the fields read from each payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: list[StructField] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> StructSpec:
        seen: dict[str, int] = {}
        for index, field in enumerate(self.fields):
            if field.name in seen:
                raise PydanticCustomError(
                    "codec_duplicate",
                    "fields[{index}] {name}: the name is already used by fields[{first}]",
                    {"index": index, "name": repr(field.name), "first": seen[field.name]},
                )
            seen[field.name] = index
        return self


class PayloadField(FieldSpecBase):
    """One field of a downlink payload: a constant ``value`` or a JsonLogic ``expr``."""

    name: StrictStr | None = Field(default=None, description="for messages and the dry-run plan")
    value: StrictBool | StrictInt | StrictFloat | StrictStr | None = Field(
        default=None, description="a constant (hex text for bytes, text for ascii/utf8)"
    )
    expr: Any = Field(default=None, description="a JsonLogic expression over the action context")

    @property
    def is_constant(self) -> bool:
        """True for a ``value`` field, false for an ``expr`` field."""
        return "value" in self.model_fields_set

    @model_validator(mode="after")
    def _validate(self) -> PayloadField:
        extra: list[str] = []
        given = {"value", "expr"} & self.model_fields_set
        if len(given) == 2:
            extra.append("give either value or expr, not both")
        elif not given:
            extra.append("give a value (a constant) or an expr (a JsonLogic expression)")
        elif "value" in given and self.value is None:
            extra.append("value must not be null")
        elif "expr" in given and self.expr is None:
            extra.append("expr must not be null")
        self._check(extra)
        return self


class PayloadSpec(BaseModel):
    """A downlink payload: the fields packed, in order (or at their ``offset``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: list[PayloadField] = Field(min_length=1)
