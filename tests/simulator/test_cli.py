"""``rules-engine simulate``: a real subprocess serving HTTP, stopped with SIGINT; host checks."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner

from rules_engine.simulator.cli import is_loopback, simulate_command

ENTRY = "from rules_engine.simulator.cli import simulate_command; simulate_command()"


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float = 20.0) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} not printed; got {lines!r}")


@pytest.mark.slow
def test_simulate_subprocess_serves_and_stops_on_sigint() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "--port", "0", "--devices", "6", "--seed", "3", "--history", "300",
         "--app-token", "0123456789abcdef0123", "--username", "ops@example.com", "--password", "s3cret"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = _read_until(process, "Ctrl-C")
        text = "\n".join(lines)
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
        assert url, text
        base = url.group(1)
        assert "ops@example.com" in text and "s3cret" in text
        assert "app token: 0123456789abcdef0123" in text
        assert "curl -u 'ops@example.com:s3cret'" in text
        accounts = httpx.get(base + "/access/accounts", auth=("ops@example.com", "s3cret"), timeout=5)
        assert accounts.status_code == 200
        recent = httpx.get(
            base + "/clientEdge/data/uplinkPayload/applicationToken/0123456789abcdef0123/mostRecentEvents",
            params={"maxResults": 5},
            auth=("ops@example.com", "s3cret"),
            timeout=5,
        )
        assert recent.status_code == 200 and len(recent.json()["results"]) == 5
        assert httpx.get(base + "/access/accounts", auth=("demo@example.com", "demo-password")).status_code == 401
        curl = shutil.which("curl")
        if curl:  # the README's promise, with the real tool where the machine has it
            fetched = subprocess.run([curl, "-sf", "-u", "ops@example.com:s3cret", base + "/access/accounts"],
                                     capture_output=True, text=True, timeout=10)
            assert fetched.returncode == 0 and json.loads(fetched.stdout)[0]["id"]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
        assert "simulator stopped" in out
        assert "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_refuses_non_loopback_host_without_allow_remote() -> None:
    result = CliRunner().invoke(simulate_command, ["--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output and "--allow-remote" in result.output


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.1.2.3")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1") and not is_loopback("example.com")


@pytest.mark.parametrize("option, value", [("--devices", "-5"), ("--gateways", "-1"), ("--app-tokens", "0"),
                                           ("--lte-fraction", "1.5"), ("--interval", "0"), ("--history", "-1")])
def test_refuses_impossible_fleet_sizes_and_rates(option: str, value: str) -> None:
    result = CliRunner().invoke(simulate_command, ["--port", "0", option, value])
    assert result.exit_code == 2 and f"Invalid value for '{option}'" in result.output, result.output


def test_no_gateway_is_an_lte_m_fleet_only() -> None:
    result = CliRunner().invoke(simulate_command, ["--port", "0", "--gateways", "0", "--lte-fraction", "0.5"])
    assert result.exit_code != 0 and "Symphony modules need at least one gateway" in result.output, result.output
