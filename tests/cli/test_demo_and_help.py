"""The commands a newcomer runs first, as real subprocesses."""

from __future__ import annotations

import re
import subprocess
import sys


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rules_engine", *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    for command in ("demo", "simulate"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.M), result.stdout


def test_demo_reads_the_live_fleet_and_misses_nothing() -> None:
    result = run("demo", "--duration", "4", "--poll-interval", "1", "--devices", "30")
    assert result.returncode == 0, result.stderr
    summary = re.search(r"summary: (\d+) uplinks read in (\d+) polls.*?holds\s+(\d+) uplinks; missed: (\d+)", result.stdout, re.S)
    assert summary, result.stdout[-2000:]
    read, polls, truth, missed = map(int, summary.groups())
    assert read > 0 and polls >= 2
    assert missed == 0 and read >= truth
