"""Every file in tests/fixtures/broken_rules is rejected at the line, column and with the message
its first line announces (``# expect: LINE:COL fragment``), and a good rule beside it still loads."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rules_engine.config import load_config
from rules_engine.rules.loader import load_rules
from rules_engine.toolkit import Toolkit

ROOT = Path(__file__).resolve().parents[2]
BROKEN = sorted((ROOT / "tests" / "fixtures" / "broken_rules").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (.+?)\s*$")

GOOD_RULE = """rules:
  - id: the-good-one
    trigger: {uplink: {app_token: plant}}
    actions: [log: {message: fine}]
"""


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return Toolkit.create(load_config(ROOT / "engine.yaml"), plugins_dir=None, entry_points=False)


def test_the_corpus_is_large_enough() -> None:
    assert len(BROKEN) >= 30


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_file_is_rejected_with_location(path: Path, toolkit: Toolkit, tmp_path: Path) -> None:
    expected = EXPECT.match(path.read_text().splitlines()[0])
    assert expected, f"{path.name} lacks an '# expect: LINE:COL fragment' first line"
    line, column, fragment = int(expected[1]), int(expected[2]), expected[3]
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    (tmp_path / "good.yaml").write_text(GOOD_RULE)
    ruleset = load_rules([tmp_path], toolkit)
    errors = [p for p in ruleset.errors if p.where.file == str(copy)]
    assert errors, f"{path.name} was accepted"
    rendered = "\n".join(str(p) for p in errors)
    match = [p for p in errors if fragment in str(p)]
    assert match, f"no error mentions {fragment!r}:\n{rendered}"
    assert (match[0].where.line, match[0].where.column) == (line, column), rendered
    assert str(match[0]).startswith(f"{copy}:{line}:{column}: ")
    assert "the-good-one" in [rule.id for rule in ruleset.rules], "a bad file stopped a good one from loading"
