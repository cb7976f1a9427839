"""A client for ``oracle/oracle.js``: json-logic-js, the reference implementation, in one
long-lived node process. Batches of ``(rule, data)`` go in as one JSON line; results come back
decoded, with the values JSON cannot carry (NaN, +/-Infinity, -0, undefined) restored."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

ORACLE_DIR = Path(__file__).parent / "oracle"


class Undefined:
    """JavaScript ``undefined`` (or a function) in an oracle result."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<js {self.what}>"


_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}


def decode(value: Any) -> Any:
    """An oracle value with its ``{"$js": ...}`` tags restored to Python values (and integers
    beyond 2**53 back to the double JavaScript printed)."""
    if type(value) is dict:
        if len(value) == 1 and "$js" in value:
            tag = value["$js"]
            return _SPECIAL[tag] if tag in _SPECIAL else Undefined(tag)
        return {key: decode(item) for key, item in value.items()}
    if type(value) is list:
        return [decode(item) for item in value]
    if type(value) is int and abs(value) > 2**53:
        return float(value)  # JSON.stringify writes big doubles as integer digits
    return value


class OracleError(Exception):
    """json-logic-js threw for a case."""


def node_executable() -> str | None:
    return shutil.which("node")


def ensure_installed() -> None:
    """``npm install`` the pinned json-logic-js when ``oracle/node_modules`` is missing."""
    if (ORACLE_DIR / "node_modules" / "json-logic-js").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("node is installed but npm is not: cannot install the json-logic-js oracle")
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(ORACLE_DIR)],
        check=True,
        cwd=ORACLE_DIR,
        capture_output=True,
        timeout=300,
    )


class Oracle:
    """One node process evaluating batches of cases with json-logic-js."""

    def __init__(self) -> None:
        node = node_executable()
        if node is None:
            raise RuntimeError("node is not on PATH")
        self._process = subprocess.Popen(
            [node, str(ORACLE_DIR / "oracle.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )

    def apply_many(self, cases: list[tuple[Any, Any]]) -> list[Any]:
        """The json-logic-js result of every ``(rule, data)``; an :class:`OracleError` instance in
        place of a result when json-logic-js threw."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps([[rule, data] for rule, data in cases]) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the oracle process exited (code {self._process.poll()})")
        return [
            decode(item["ok"]) if "ok" in item else OracleError(item["error"]) for item in json.loads(line)
        ]

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self._process.kill()
