"""rules-engine ledger ...: read-only views, also while a writer holds the ledger."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import Rig

RULES = """
rules:
  - id: tracked
    trigger: {uplink: {app_token: plant, port: 1}}
    condition: {"==": [{"%": [{var: decoded.counter}, 7]}, 0]}
    actions:
      - multicast:
          app_token: plant
          gateway: {var: uplink.gateway}
          port: 30
          payload: [{type: u32_be, expr: {var: send.seq}}]
          ack: {deadline: 20s}
      - log: {message: "{uplink.module}"}
"""


def ledger_cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rules_engine", "ledger", "--ledger", str(path), *args],
                          capture_output=True, text=True, timeout=60)


async def test_ledger_views_while_the_writer_is_open(rig: Rig) -> None:
    engine = rig.engine(RULES)
    try:
        await engine.poll("plant")
        await engine.dispatch()
        rig.clock.advance(10)
        await engine.poll("plant")
        path = rig.tmp / "ledger.db"
        summary_text = ledger_cli(path, "summary", "--json").stdout
        assert summary_text.count("\n") == 1 and summary_text.endswith("}\n")  # --json: one object per line
        summary = json.loads(summary_text)
        uplinks = engine.ledger.conn.execute("SELECT count(*) FROM uplinks").fetchone()[0]
        firings = engine.ledger.conn.execute("SELECT count(*) FROM firings").fetchone()[0]
        assert summary["uplinks"] == uplinks and summary["firings"] == firings > 0
        assert summary["cursors"][0]["alias"] == "plant"
        listed = [json.loads(line) for line in ledger_cli(path, "uplinks", "--limit", "3", "--json").stdout.splitlines()]
        assert len(listed) == 3 and all("decoded" in row and row["decoded"]["message_type"] == 1 for row in listed if row["decoded"])
        everything = ledger_cli(path, "uplinks", "--limit", "0", "--json").stdout.splitlines()
        assert len(everything) == uplinks > 20  # 0: every row, past the default of 20
        fired = [json.loads(line) for line in ledger_cli(path, "firings", "--rule", "tracked", "--json").stdout.splitlines()]
        assert fired and all(row["rule_id"] == "tracked" and row["values"] for row in fired)
        detail = json.loads(ledger_cli(path, "firing", str(fired[0]["id"])).stdout)
        assert [i["action"] for i in detail["intents"]] == ["multicast", "log"] and detail["uplink"]["uuid"] == detail["event_id"]
        done = [json.loads(line) for line in ledger_cli(path, "intents", "--status", "done", "--json").stdout.splitlines()]
        assert done and {row["action"] for row in done} <= {"multicast", "log"}
        downlinks = [json.loads(line) for line in ledger_cli(path, "downlinks", "--json").stdout.splitlines()]
        assert {d["issuance_id"] for d in downlinks} == {c.issuance_id for c in rig.simulator.commands()}
        sends = [json.loads(line) for line in ledger_cli(path, "sends", "--json").stdout.splitlines()]
        assert sends and all(s["expected"] >= 1 for s in sends)
        one_text = ledger_cli(path, "send", str(sends[-1]["id"]), "--json").stdout
        assert one_text.count("\n") == 1, one_text
        one = json.loads(one_text)
        assert sum(g["expected"] for g in one["gateways"].values()) == len(one["targets"]) == sends[-1]["expected"]
        table = ledger_cli(path, "send", str(sends[-1]["id"]))
        assert table.returncode == 0 and "per gateway" in table.stdout and "per device" in table.stdout
        missing = ledger_cli(path, "firing", "999999")
        assert missing.returncode == 1 and "no firing 999999" in missing.stderr
    finally:
        await engine.conductor.aclose()
        engine.ledger.close()


def test_a_missing_ledger_is_a_clear_error(tmp_path: Path) -> None:
    result = ledger_cli(tmp_path / "nope.db", "summary")
    assert result.returncode == 1 and "no ledger at" in result.stderr and "ledger.path" in result.stderr
