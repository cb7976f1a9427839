"""Load-time rejection: every broken condition of ``tests/fixtures/broken_conditions.yaml`` raises
ConditionError at compile time, with the exact JSON path of the bad node and an actionable
message; nothing is deferred to evaluation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from rules_engine.conditions import Backend, compile_condition, lint_condition, split_path
from rules_engine.conditions.nodes import MAX_DEPTH
from rules_engine.errors import ConditionError, RulesEngineError

CORPUS = Path(__file__).parent.parent / "fixtures" / "broken_conditions.yaml"
CASES: list[dict[str, Any]] = YAML(typ="safe").load(CORPUS.read_text(encoding="utf-8"))


def test_corpus_is_large_and_ids_are_unique() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("backend", ["codegen", "closures"])
@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_rejected_at_load_with_path(case: dict[str, Any], backend: Backend) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(case["rule"], backend=backend)
    error = caught.value
    assert error.path == case["path"]
    assert case["message"] in str(error)
    assert str(error) == f"{error.path}: {error.reason}"
    assert isinstance(error, RulesEngineError)


_DOTTED = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_error_path_is_plain_dotted_notation(case: dict[str, Any]) -> None:
    # The rule loader maps a path to a file line with a plain ".key" / "[index]" reading.
    path = case["path"]
    dotted = [key or int(index) for key, index in _DOTTED.findall(path.removeprefix("$"))]
    assert dotted == split_path(path)
    assert "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in dotted) == path


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_lint_reads_broken_conditions_without_raising(case: dict[str, Any]) -> None:
    assert isinstance(lint_condition(case["rule"]), list)


@pytest.mark.parametrize("backend", ["codegen", "closures"])
def test_nesting_limit(backend: Backend) -> None:
    rule: Any = {"var": "x"}
    for _ in range(MAX_DEPTH - 1):
        rule = {"!": rule}  # one JSON level per operator
    # Exactly at the limit: accepted. 99 negations of 0 are true.
    assert compile_condition(rule, backend=backend)({"x": 0}) is True
    with pytest.raises(ConditionError, match="nested deeper than 100 levels"):
        compile_condition({"!": rule}, backend=backend)


def test_error_in_a_branch_that_would_never_run_is_still_found() -> None:
    rule = {"or": [True, {"if": [False, {"==": [1]}, 0]}]}
    with pytest.raises(ConditionError) as caught:
        compile_condition(rule)
    assert caught.value.path == "$.or[1].if[1].=="


def test_split_path_round_trip() -> None:
    assert split_path("$.and[1].<[0].var") == ["and", 1, "<", 0, "var"]
    assert split_path("$['it\\'s'].x") == ["it's", "x"]
    with pytest.raises(ValueError):
        split_path("and[1]")
