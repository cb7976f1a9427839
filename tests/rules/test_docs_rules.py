"""docs/rules.md cannot go stale: its rule examples load cleanly and its test example passes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rules_engine.config import load_config
from rules_engine.rules.loader import load_rules
from rules_engine.rules.tester import run_test_file
from rules_engine.toolkit import Toolkit

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "rules.md").read_text()
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, re.S)
RULE_BLOCKS = [b for b in BLOCKS if b.startswith("rules:")]
TEST_BLOCKS = [b for b in BLOCKS if b.startswith("config:")]


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return Toolkit.create(load_config(ROOT / "engine.yaml"), entry_points=False)


def test_the_doc_has_examples() -> None:
    assert len(RULE_BLOCKS) >= 8 and len(TEST_BLOCKS) == 1


@pytest.mark.parametrize("block", RULE_BLOCKS, ids=[f"block{i}" for i in range(len(RULE_BLOCKS))])
def test_rule_examples_load_without_problems(block: str, toolkit: Toolkit, tmp_path: Path) -> None:
    """Beside the example rules of rules/temperature.yaml, which an example may name (a send
    trigger's ``rule:``), unless it defines one of their ids itself."""
    (tmp_path / "example.yaml").write_text(block)
    paths = [tmp_path / "example.yaml"]
    if "id: overheat-cooling" not in block:
        paths.append(ROOT / "rules" / "temperature.yaml")
    ruleset = load_rules(paths, toolkit)
    assert not ruleset.problems, "\n".join(map(str, ruleset.problems))
    assert ruleset.rules


def test_the_test_file_example_passes(toolkit: Toolkit, tmp_path: Path) -> None:
    shutil.copy(ROOT / "engine.yaml", tmp_path / "engine.yaml")
    shutil.copytree(ROOT / "plugins", tmp_path / "plugins")
    (tmp_path / "rules").mkdir()
    shutil.copy(ROOT / "rules" / "temperature.yaml", tmp_path / "rules" / "temperature.yaml")
    (tmp_path / "rules" / "temperature.test.yaml").write_text(TEST_BLOCKS[0])
    results = run_test_file(tmp_path / "rules" / "temperature.test.yaml", None, lambda config: Toolkit.create(config, entry_points=False))
    assert [r.passed for r in results] == [True], [r.lines for r in results]


def test_the_error_examples_are_what_validate_prints(toolkit: Toolkit, tmp_path: Path) -> None:
    shown = re.search(r"```\n(rules/bad\.yaml:.*?)```", DOC, re.S).group(1).strip().splitlines()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bad.yaml").write_text(
        "rules:\n  - id: one\n    trigger: {uplink: {app_token: plnat}}\n    actions: [log: {message: x}]\n"
        "  - id: two\n    trigger: {uplink: {}}\n    condition: true\n    actions: [multicats: {}]\n")
    config = load_config(ROOT / "engine.yaml").model_copy(update={"app_tokens": {"plant": load_config(ROOT / "engine.yaml").app_tokens["plant"]}})
    local = Toolkit.create(config, entry_points=False, plugins_dir=ROOT / "plugins")
    printed = [str(p).replace(str(tmp_path) + "/", "") for p in load_rules([tmp_path / "rules" / "bad.yaml"], local).errors]
    assert printed == shown
