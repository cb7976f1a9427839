"""docs/acknowledgement.md: its rule example loads, its default condition is the engine's."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rules_engine.acks.spec import DEFAULT_ACK_CONDITION
from rules_engine.config import load_config
from rules_engine.demo import DEMO_FLEET
from rules_engine.rules.loader import load_rules
from rules_engine.toolkit import Toolkit

DOC = (Path(__file__).resolve().parents[2] / "docs" / "acknowledgement.md").read_text()


def test_the_documented_default_condition_is_the_one_used() -> None:
    shown = json.loads(re.search(r"```json\n(.*?)```", DOC, re.S).group(1))
    assert shown == DEFAULT_ACK_CONDITION


def test_the_worked_example_is_the_demo_rule_and_loads(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(rules:.*?)```", DOC, re.S).group(1)
    (tmp_path / "example.yaml").write_text(example)
    toolkit = Toolkit.create(load_config(DEMO_FLEET / "engine.yaml"), entry_points=False)
    ruleset = load_rules([tmp_path / "example.yaml"], toolkit)
    assert not ruleset.problems, ruleset.problems
    demo = (DEMO_FLEET / "rules" / "demo.yaml").read_text()
    for line in ("deadline: 8s", "retry: {rounds: 2, multicast_above: 0.5, gateway_rate: 120/min, deadline: 15s}",
                 "trigger: {schedule: {every: 15s}}"):
        assert line in example and line in demo
