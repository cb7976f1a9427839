"""docs/conditions.md cannot go stale: its examples are checked here.

* a ```json block is a condition that must compile (and lint without raising);
* a ```json rejected block must be rejected; the ```text block right after it, if any, is the
  exact error;
* every row of a table whose header is ``rule | data | result`` is evaluated;
* the ```python blocks are run, in order, in one namespace.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from rules_engine.conditions import compile_condition, lint_condition
from rules_engine.errors import ConditionError

from .support import same_value

DOC = Path(__file__).parent.parent.parent / "docs" / "conditions.md"
TEXT = DOC.read_text(encoding="utf-8")
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[str, str]]:
    return [(match.group(1).strip(), match.group(2)) for match in _FENCE.finditer(TEXT)]


def _table_rows() -> list[tuple[str, str, str]]:
    rows = []
    in_table = False
    for line in TEXT.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells is None:
            in_table = False
        elif cells[:3] == ["rule", "data", "result"]:
            in_table = True
        elif in_table and not set(cells[0]) <= {"-", ":"}:
            rows.append(tuple(cell.strip("`") for cell in cells[:3]))  # type: ignore[arg-type]
    return rows  # type: ignore[return-value]


CONDITIONS = [body for info, body in _blocks() if info == "json"]
REJECTED = [
    (body, following[1] if following[0] == "text" else None)
    for (info, body), following in zip(_blocks(), [*_blocks()[1:], ("", "")], strict=True)
    if info == "json rejected"
]
ROWS = _table_rows()
PYTHON = [body for info, body in _blocks() if info == "python"]


def test_the_documentation_has_examples() -> None:
    assert len(CONDITIONS) >= 4 and len(REJECTED) >= 5 and len(ROWS) >= 30 and PYTHON


@pytest.mark.parametrize("body", CONDITIONS, ids=[f"json{i}" for i in range(len(CONDITIONS))])
def test_json_examples_compile(body: str) -> None:
    rule = json.loads(body)
    compile_condition(rule)
    lint_condition(rule)


@pytest.mark.parametrize(("body", "error_text"), REJECTED, ids=[f"rejected{i}" for i in range(len(REJECTED))])
def test_rejected_examples_are_rejected_as_shown(body: str, error_text: str | None) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(json.loads(body))
    if error_text is not None:
        assert str(caught.value) == error_text.strip()


@pytest.mark.parametrize("backend", ["codegen", "closures"])
@pytest.mark.parametrize(("rule", "data", "result"), ROWS, ids=[f"row{i}" for i in range(len(ROWS))])
def test_table_rows_evaluate_as_documented(rule: str, data: str, result: str, backend: str) -> None:
    expected: Any = json.loads(result)
    actual = compile_condition(json.loads(rule), backend=backend)(json.loads(data))  # type: ignore[arg-type]
    assert same_value(actual, expected), f"{rule} on {data}: got {actual!r}, documented {result}"


def test_python_examples_run() -> None:
    namespace: dict[str, Any] = {"__name__": "docs_conditions"}
    for body in PYTHON:
        exec(compile(body, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
