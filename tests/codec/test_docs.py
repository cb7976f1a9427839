"""Every struct and payload example in docs/payloads.md validates and does what its comments say.

Convention: a fenced ```yaml block whose first line is ``# struct`` or ``# payload`` is a spec.
In a struct block, ``# decodes HEX -> JSON`` lines state decode results; in a payload block,
``# with JSON -> HEX`` lines state built payloads (spaces in HEX are ignored).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from rules_engine.codec import compile_payload, compile_struct, default_field_types

DOC = Path(__file__).resolve().parents[2] / "docs" / "payloads.md"
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
DECODES = re.compile(r"^# decodes ([0-9A-Fa-f ]*) -> (.*)$", re.MULTILINE)
WITH = re.compile(r"^# with (\{.*\}) -> ([0-9A-Fa-f ]+)$", re.MULTILINE)


def _blocks(kind: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return [body for body in BLOCK.findall(text) if body.splitlines()[0].strip() == f"# {kind}"]


def _load(body: str) -> Any:
    return YAML(typ="safe", pure=True).load(io.StringIO(body))


def _arith_compiler(expr: Any) -> Callable[[Mapping[str, Any]], Any]:
    """Stand-in for the real compiler while it is not importable: var and + - * /."""
    if isinstance(expr, dict):
        ((op, args),) = expr.items()
        if op == "var":
            path = str(args).split(".")

            def lookup(data: Mapping[str, Any]) -> Any:
                value: Any = data
                for part in path:
                    value = value.get(part) if isinstance(value, Mapping) else None
                return value

            return lookup
        parts = [_arith_compiler(arg) for arg in args]
        ops: dict[str, Callable[[Any, Any], Any]] = {
            "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
        }
        combine = ops[op]

        def evaluate(data: Mapping[str, Any]) -> Any:
            result = parts[0](data)
            for part in parts[1:]:
                result = combine(result, part(data))
            return result

        return evaluate
    return lambda _data: expr


def _compiler() -> Callable[[Any], Any]:
    try:
        from rules_engine.conditions import compile_condition
    except ImportError:
        return _arith_compiler
    return compile_condition  # type: ignore[no-any-return]


def test_the_doc_has_examples() -> None:
    assert len(_blocks("struct")) >= 8 and len(_blocks("payload")) >= 3


@pytest.mark.parametrize("body", _blocks("struct"), ids=lambda body: body.splitlines()[2].strip()[:40])
def test_struct_examples(body: str) -> None:
    decoder = compile_struct(_load(body), default_field_types())
    checks = DECODES.findall(body)
    assert checks, "every struct example states what it decodes"
    for hex_, expected in checks:
        assert decoder.decode(bytes.fromhex(hex_)) == json.loads(expected)


@pytest.mark.parametrize("body", _blocks("payload"), ids=lambda body: body.splitlines()[2].strip()[:40])
def test_payload_examples(body: str) -> None:
    builder = compile_payload(_load(body), default_field_types(), _compiler())
    checks = WITH.findall(body)
    assert checks, "every payload example states what it builds"
    for context, hex_ in checks:
        assert builder.build(json.loads(context)) == bytes.fromhex(hex_)


def test_the_printed_plan_is_the_real_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    printed = text.split("`describe(context).format()` prints:", 1)[1].split("```", 2)[1].strip("\n")
    body = _blocks("payload")[0]
    builder = compile_payload(_load(body), default_field_types(), _compiler())
    ((context, _hex),) = WITH.findall(body)
    assert builder.describe(json.loads(context)).format() == printed
