"""Conformance: the official JsonLogic suite, the IoT probes and the recorded fuzz cases, each in
four execution modes:

* ``tiered``: the default, evaluated three times across its tier-up (on closures, on the call
  that generates its code, on the generated code), all three results equal;
* ``codegen``: a generated Python function per condition from the start;
* ``closures``: the closure backend;
* ``registered``: generated code with every operator's ``emit`` hook removed, so each operator
  runs through the function or compile callback it registered (the path plugins take).

Results are compared as JSON values, type-aware (``true`` is not ``1``; ``1`` is ``1.0``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from rules_engine.conditions import compile_condition, standard_operators

from .support import FIXTURES, load_cases, same_value

_WITHOUT_EMITTERS = standard_operators().without_emitters()



def _across_tier_up(rule: Any) -> Callable[[Any], Any]:
    evaluate = compile_condition(rule, tier_up_after=2)

    def run(data: Any) -> Any:
        results = [evaluate(data) for _ in range(3)]
        assert same_value(results[0], results[1]) and same_value(results[1], results[2]), results
        return results[2]

    return run


MODES: dict[str, Callable[[Any], Callable[[Any], Any]]] = {
    "tiered": _across_tier_up,
    "codegen": lambda rule: compile_condition(rule, backend="codegen"),
    "closures": lambda rule: compile_condition(rule, backend="closures"),
    "registered": lambda rule: compile_condition(rule, operators=_WITHOUT_EMITTERS, backend="codegen"),
}

OFFICIAL = load_cases("tests.json")
PROBES = load_cases("probes.json")
FUZZ = load_cases("fuzz.json")
FUZZ_CHUNK = 100


def test_case_counts_match_the_provenance_table() -> None:
    assert (len(OFFICIAL), len(PROBES), len(FUZZ)) == (277, 34, 2925)


def test_official_suite_is_the_published_file() -> None:
    digest = hashlib.sha256((FIXTURES / "tests.json").read_bytes()).hexdigest()
    assert digest.startswith("3f2ef425") and digest.endswith("587c31")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("case_id", "rule", "data", "expected"), OFFICIAL + PROBES, ids=[case[0] for case in OFFICIAL + PROBES]
)
def test_case(mode: str, case_id: str, rule: Any, data: Any, expected: Any) -> None:
    actual = MODES[mode](rule)(data)
    assert same_value(actual, expected), f"{case_id}: got {actual!r}, expected {expected!r}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("start", range(0, len(FUZZ), FUZZ_CHUNK), ids=lambda start: f"fuzz[{start}:]")
def test_fuzz_cases(mode: str, start: int) -> None:
    failures = []
    for case_id, rule, data, expected in FUZZ[start : start + FUZZ_CHUNK]:
        actual = MODES[mode](rule)(data)
        if not same_value(actual, expected):
            failures.append(f"{case_id}: {rule!r} on {data!r}: got {actual!r}, expected {expected!r}")
    assert not failures, "\n".join(failures)
