"""Differential test: this compiler against json-logic-js (the reference), on generated rules.

Each example is one generated rule and a batch of generated contexts, evaluated by both backends
here and by json-logic-js in the session's node process (one round trip per example). Results
must be identical as JavaScript values: same JS type (``true`` is not ``1``), NaN equal to NaN,
``-0`` distinct from ``0``, +/-Infinity. Nothing is excluded: the oracle tags the values JSON
cannot carry (see ``oracle/oracle.js``), so NaN and Infinity results are compared too.

``CONDITIONS_FUZZ_EXAMPLES`` sets the number of examples (default 400) and
``CONDITIONS_FUZZ_RANDOM=1`` draws new random examples instead of the fixed, derandomized set.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules_engine.conditions import compile_condition

from .oracle_client import Oracle, OracleError
from .strategies import DATA, RULES
from .support import same_value

EXAMPLES = int(os.environ.get("CONDITIONS_FUZZ_EXAMPLES", "400"))
RANDOM = os.environ.get("CONDITIONS_FUZZ_RANDOM") == "1"


def _show(value: Any) -> str:
    return json.dumps(value, default=repr, ensure_ascii=False)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,  # no example database: the fixed set is reproducible, random runs are one-off
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rule=RULES, contexts=st.lists(DATA, min_size=1, max_size=6))
def test_same_results_as_json_logic_js(oracle: Oracle, rule: Any, contexts: list[Any]) -> None:
    expected = oracle.apply_many([(rule, data) for data in contexts])
    compiled = compile_condition(rule, backend="codegen")
    closures = compile_condition(rule, backend="closures")
    for data, reference in zip(contexts, expected, strict=True):
        assert not isinstance(reference, OracleError), f"json-logic-js threw {reference} for {_show(rule)}"
        for backend, evaluate in (("codegen", compiled), ("closures", closures)):
            actual = evaluate(data)
            assert same_value(actual, reference, signed_zero=True), (
                f"{backend}: {_show(rule)} on {_show(data)}: got {_show(actual)}, json-logic-js {_show(reference)}"
            )
