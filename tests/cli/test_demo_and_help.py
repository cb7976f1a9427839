"""The commands a newcomer runs first, as real subprocesses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from rules_engine.demo import DEMO_FLEET

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rules_engine", *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    for command in ("demo", "simulate", "run", "validate", "test", "replay", "plugins", "ledger"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.M), result.stdout


def test_demo_runs_the_daemon_and_ends_with_firings_and_sends() -> None:
    result = run("demo", "--duration", "12", "--devices", "40")
    assert result.returncode == 0, result.stderr[-3000:]
    out = " ".join(result.stdout.split())
    summary = re.search(r"uplinks processed: (\d+) from (\d+) devices .*? generated (\d+) in the polled span, missed: (\d+)", out)
    assert summary, out[-2000:]
    processed, devices, generated, missed = map(int, summary.groups())
    assert processed > 0 and devices == 40 and missed == 0 and processed >= generated
    firings = re.search(r"firings: (\d+)", out)
    sends = re.search(r"downlinks sent: (\d+) \(the simulator issued (\d+), delivered to (\d+) device", out)
    assert firings and int(firings.group(1)) > 0
    assert sends and int(sends.group(1)) == int(sends.group(2)) > 0 and int(sends.group(3)) > 0


def test_the_demo_rules_pass_their_tests() -> None:
    result = run("test", str(DEMO_FLEET / "rules"), "--config", str(DEMO_FLEET / "engine.yaml"))
    assert result.returncode == 0, result.stdout
    assert "0 failed" in result.stdout
