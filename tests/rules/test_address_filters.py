"""Module and gateway filters are Conductor addresses, compared exactly with an uplink's: a
percent-encoded one (as copied from a URL) is decoded when the rule loads, so it still matches."""

from __future__ import annotations

from pathlib import Path

from rules_engine.config import load_config
from rules_engine.rules.loader import load_rules
from rules_engine.toolkit import Toolkit

ROOT = Path(__file__).resolve().parents[2]


def test_percent_encoded_addresses_are_decoded(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(
        "rules:\n  - id: a\n    trigger: {uplink: {module: '%24301%240-0-0-0300a1b2c', gateway: '%24101%240-0-0-db9504a40'}}\n"
        "    actions: [log: {message: x}]\n"
        "  - id: b\n    trigger: {silence: {after: 5m, module: ['$301$0-0-0-0300a1c7e', '%24303%240-0-0001450-2bf65e93d']}}\n"
        "    actions: [log: {message: x}]\n")
    ruleset = load_rules([tmp_path / "r.yaml"], Toolkit.create(load_config(ROOT / "engine.yaml"), entry_points=False))
    assert not ruleset.problems, [str(p) for p in ruleset.problems]
    a, b = ruleset.rules
    assert a.modules == {"$301$0-0-0-0300a1b2c"} and a.gateways == {"$101$0-0-0-db9504a40"}
    assert b.modules == {"$301$0-0-0-0300a1c7e", "$303$0-0-0001450-2bf65e93d"}
