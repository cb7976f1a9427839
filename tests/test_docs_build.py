"""The documentation builds without a warning, every page is in the navigation, and the CLI
reference is what the commands print."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from rules_engine.clidoc import render_cli_reference

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    assert (ROOT / "docs" / "cli.md").read_text() == render_cli_reference(), (
        "docs/cli.md is stale: run 'python -m rules_engine.clidoc > docs/cli.md' (or 'make docs')")


def test_every_command_is_in_the_cli_reference() -> None:
    from rules_engine.cli import main

    text = (ROOT / "docs" / "cli.md").read_text()
    for name in main.list_commands(None):  # type: ignore[arg-type]
        assert f"`rules-engine {name}`" in text


def test_every_page_is_in_the_navigation() -> None:
    config = YAML(typ="safe").load((ROOT / "mkdocs.yml").read_text())
    listed = {next(iter(item.values())) for item in config["nav"]}
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages == listed, f"not in mkdocs.yml nav: {pages - listed}; missing files: {listed - pages}"


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert (tmp_path / "site" / "rules" / "index.html").exists()
