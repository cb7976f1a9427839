"""A ``send`` trigger that names a rule which is not loaded, or which makes no tracked send, can
never fire: the loader warns, naming the rule (rules/loader.py, ``_send_trigger_problems``)."""

from __future__ import annotations

from pathlib import Path

from rules_engine.config import load_config
from rules_engine.rules.loader import load_rules
from rules_engine.toolkit import Toolkit

ROOT = Path(__file__).resolve().parents[2]

RULES = """rules:
  - id: tracked
    trigger: {uplink: {app_token: plant}}
    actions:
      - multicast:
          app_token: plant
          payload: [{type: u32_be, expr: {var: send.seq}}]
          ack: {expect: seen}
  - id: untracked
    trigger: {uplink: {app_token: plant}}
    actions: [multicast: {app_token: plant, payload: "01"}]
  - id: follows
    trigger: {send: {rule: [tracked, untracked, trakced]}}
    actions: [log: {message: "{send.outcome}"}]
"""


def test_send_triggers_on_rules_without_tracked_sends_are_reported(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(RULES)
    toolkit = Toolkit.create(load_config(ROOT / "engine.yaml"), entry_points=False)
    ruleset = load_rules([tmp_path / "r.yaml"], toolkit)
    warnings = [str(p) for p in ruleset.warnings]
    assert not ruleset.errors and len(ruleset.rules) == 3
    assert len(warnings) == 2, warnings
    assert any(w.endswith("warning: rule 'follows': trigger.send.rule: rule 'untracked' makes no tracked send "
                          "(an action with 'ack:'), so this rule never fires") for w in warnings), warnings
    assert any("no loaded rule has the id 'trakced' (did you mean 'tracked'?)" in w for w in warnings), warnings
