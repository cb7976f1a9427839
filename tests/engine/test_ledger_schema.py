"""The uplinks table keyed by (ts, uuid): an existing ledger upgrades in place, nothing lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from rules_engine.ledger.migrations import migrations
from rules_engine.ledger.queries import firing_detail
from rules_engine.ledger.records import known_uuids
from rules_engine.ledger.store import Ledger

_OLD_INSERT = ("INSERT INTO uplinks (uuid, app_token, module, gateway, port, ts, time, payload_hex, decoder, decoded, decode_error, "
               "signal, received_at) VALUES (?, 'tok', ?, 'gw', 1, ?, 'iso', '01', 'env', '{\"t\": 1}', NULL, NULL, ?)")


def _ledger_before_m003(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.apply(Database(conn), stop_before="m003_uplinks_by_time")
    conn.executemany(_OLD_INSERT, [(f"uuid-{i}", f"mod-{i % 3}", 1000.0 + i, 2000.0) for i in range(50)])
    conn.execute("INSERT INTO firings (rule_id, event_id, event_kind, ts, evaluation, created_at) "
                 "VALUES ('r', 'uuid-7', 'uplink', 1007.0, '{}', 2000.0)")
    conn.close()


def test_an_existing_ledger_upgrades_with_every_uplink(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    _ledger_before_m003(path)
    with Ledger.open_writer(path) as ledger:
        conn = ledger.conn
        assert not migrations.pending(ledger.db)
        assert conn.execute("SELECT count(*), count(DISTINCT uuid), min(ts), max(ts) FROM uplinks").fetchone() == (50, 50, 1000.0, 1049.0)
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(uplinks)")}
        assert indexes == {"uplinks_identity"}
        assert known_uuids(conn, [(1003.0, "uuid-3"), (1003.0, "uuid-x"), (9.0, "uuid-4")]) == {"uuid-3"}
        with ledger.transaction():
            conn.execute(_OLD_INSERT.replace("INSERT", "INSERT OR IGNORE"), ("uuid-3", "mod-0", 1003.0, 3000.0))
        assert conn.execute("SELECT count(*) FROM uplinks WHERE uuid = 'uuid-3'").fetchone()[0] == 1
        firing = firing_detail(conn, 1)
        assert firing is not None and firing["uplink"]["uuid"] == "uuid-7"


def test_time_range_queries_use_the_identity_index(tmp_path: Path) -> None:
    with Ledger.open_writer(tmp_path / "ledger.db") as ledger:
        plans = [" ".join(str(c) for c in row) for sql in ("SELECT uuid FROM uplinks WHERE ts IN (1.0, 2.0)",
                                                           "DELETE FROM uplinks WHERE ts < 5",
                                                           "SELECT uuid FROM uplinks ORDER BY ts DESC LIMIT 5")
                 for row in ledger.conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        assert all("uplinks_identity" in plan for plan in plans), plans
