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

_NEW_INSERT = ("INSERT INTO uplinks (uuid, app_token, module, gateway, port, ts, payload_hex, decoder, decoded, decode_error, "
               "signal, received_at) VALUES (?, 'tok', ?, 'gw', 1, ?, '01', 'env', '{\"t\": 1}', NULL, NULL, ?)")


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
            conn.execute(_NEW_INSERT.replace("INSERT", "INSERT OR IGNORE"), ("uuid-3", "mod-0", 1003.0, 3000.0))
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


_COLUMNS_KEPT = "uuid, app_token, module, gateway, port, ts, payload_hex, decoder, decoded, decode_error, signal, received_at"


def test_a_ledger_from_before_m006_keeps_every_uplink_without_the_time_text(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.apply(Database(conn), stop_before="m006_uplink_time_from_ts")
    rows = [(f"uuid-{i}", ("tok", "other")[i % 2], f"mod-{i % 3}", None if i % 4 else "gw", i % 5 or None, 1_700_000_000.0 + i / 7,
             f"{i:02X}", "env" if i % 3 else None, '{"t":1}' if i % 3 else None, None if i % 6 else "env: bad",
             '{"sf":9}' if i % 2 else None, 2000.0 + i) for i in range(300)]
    conn.executemany(f"INSERT INTO uplinks ({_COLUMNS_KEPT}, time) VALUES ({', '.join('?' * 13)})",
                     [(*row, "2023-11-14T22:13:20+00:00") for row in rows])
    conn.close()
    with Ledger.open_writer(path) as ledger:
        conn = ledger.conn
        assert not migrations.pending(ledger.db)
        assert "time" not in {row[1] for row in conn.execute("PRAGMA table_info(uplinks)")}
        assert {row[1] for row in conn.execute("PRAGMA index_list(uplinks)")} == {"uplinks_identity"}
        assert conn.execute(f"SELECT {_COLUMNS_KEPT} FROM uplinks ORDER BY uuid").fetchall() == sorted(rows)
        assert known_uuids(conn, [(rows[5][5], "uuid-5"), (rows[6][5], "uuid-x")]) == {"uuid-5"}
