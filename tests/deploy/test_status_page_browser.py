"""The status page in a real headless Chromium, during a demo run. A screenshot is saved to
test-artifacts/status-page.png. Chromium comes from Debian's package, installed here if missing."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]):
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
            if result.returncode != 0:
                pytest.fail(f"installing Debian's chromium failed ({' '.join(command)}): {result.stderr[-2000:]}")
        found = shutil.which("chromium")
    assert found, "chromium is not on PATH after installing it"
    return found


@pytest.fixture(scope="module")
def demo_status_url():
    process = subprocess.Popen([sys.executable, "-m", "rules_engine", "demo", "--duration", "90", "--devices", "30"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"})
    try:
        url = None
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            match = re.search(r"status page: (http://127\.0\.0\.1:\d+/)", line)
            url = match.group(1) if match else None
        assert url, "the demo did not print its status page address"
        # wait for the first tracked send (the demo's clock sync every 15 s) and its first acks
        deadline = time.monotonic() + 75
        while time.monotonic() < deadline:
            if re.search(r'data-send=.*?aria-valuenow="[1-9]', httpx.get(url, timeout=5).text, re.S):
                break
            time.sleep(1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_status_page_in_headless_chromium(chromium: str, demo_status_url: str, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", demo_status_url],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    assert "<h1>rules-engine</h1>" in page
    token_row = re.search(r'<tr data-alias="plant">(.*?)</tr>', page, re.S)
    assert token_row and "9a3e51c07b22d4f68e15" in token_row.group(1) and "healthy" in token_row.group(1)
    assert re.search(r'<p id="rules">4 rule\(s\) from 1 file\(s\)', page)
    sends = re.findall(r'<details open="" class="send" data-send="(\d+)">(.*?)</details>', page, re.S)
    assert sends, "no tracked send on the page"
    first = sends[-1][1]
    bar = re.search(r'aria-valuenow="(\d+)" aria-valuemax="(\d+)"', first)
    assert bar and int(bar.group(2)) == 30 and 0 < int(bar.group(1)) <= 30
    assert first.count("<tr>") >= 30                       # one row per expected device
    firings = re.search(r'<table id="firings">(.*?)</table>', page, re.S)
    assert firings and html.unescape(firings.group(1)).count("<tr>") >= 2
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "status-page.png"
    screenshot = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
                                 "--window-size=1280,1600", demo_status_url], capture_output=True, text=True, timeout=120)
    assert screenshot.returncode == 0 and shot.exists() and shot.stat().st_size > 10_000, screenshot.stderr[-2000:]
