"""The ledger schema, as sqlite-utils migrations. Never edit an applied migration: add one."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["migrations", "SCHEMA_VERSION"]

migrations = Migrations("rules_engine")


@migrations()
def m001_initial(db: Database) -> None:
    db.execute("""
        CREATE TABLE uplinks (
            uuid TEXT PRIMARY KEY,
            app_token TEXT NOT NULL,
            module TEXT NOT NULL,
            gateway TEXT,
            port INTEGER,
            ts REAL NOT NULL,
            time TEXT NOT NULL,
            payload_hex TEXT NOT NULL,
            decoder TEXT,
            decoded TEXT,
            decode_error TEXT,
            signal TEXT,
            received_at REAL NOT NULL
        )""")
    db.execute("CREATE INDEX uplinks_ts ON uplinks (ts)")
    db.execute("CREATE INDEX uplinks_module_ts ON uplinks (module, ts)")
    db.execute("""
        CREATE TABLE cursors (
            app_token TEXT PRIMARY KEY,
            alias TEXT,
            cursor_ts REAL NOT NULL,
            last_success_at REAL,
            last_error TEXT,
            last_error_at REAL,
            consecutive_errors INTEGER NOT NULL DEFAULT 0
        )""")
    db.execute("""
        CREATE TABLE devices (
            module TEXT PRIMARY KEY,
            app_token TEXT,
            last_seen REAL,
            last_gateway TEXT,
            uplinks INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT '{}'
        )""")
    db.execute("CREATE INDEX devices_token_seen ON devices (app_token, last_seen)")
    db.execute("""
        CREATE TABLE rule_state (
            rule_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (rule_id, kind, key)
        )""")
    db.execute("CREATE TABLE global_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("""
        CREATE TABLE firings (
            id INTEGER PRIMARY KEY,
            rule_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            event_kind TEXT NOT NULL,
            ts REAL NOT NULL,
            evaluation TEXT NOT NULL,
            created_at REAL NOT NULL,
            UNIQUE (rule_id, event_id)
        )""")
    db.execute("CREATE INDEX firings_ts ON firings (ts)")
    db.execute("""
        CREATE TABLE outbox (
            key TEXT PRIMARY KEY,
            firing_id INTEGER NOT NULL REFERENCES firings (id),
            rule_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            action TEXT NOT NULL,
            params TEXT NOT NULL,
            summary TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            result TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""")
    db.execute("CREATE INDEX outbox_due ON outbox (status, next_attempt_at)")
    db.execute("""
        CREATE TABLE sends (
            id INTEGER PRIMARY KEY,
            intent_key TEXT NOT NULL UNIQUE REFERENCES outbox (key),
            rule_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            issuance_id TEXT UNIQUE,
            app_token TEXT,
            module TEXT,
            gateways TEXT,
            payload_hex TEXT NOT NULL,
            port INTEGER NOT NULL,
            issued_at REAL,
            reconciled INTEGER NOT NULL DEFAULT 0
        )""")
    db.execute("""
        CREATE TABLE schedule_runs (
            rule_id TEXT PRIMARY KEY,
            last_fire_ts REAL NOT NULL
        )""")


@migrations()
def m002_tracked_sends(db: Database) -> None:
    """Application-level acknowledgement: sends tracked device by device."""
    db.execute("CREATE TABLE send_seq (app_token TEXT PRIMARY KEY, next INTEGER NOT NULL)")
    db.execute("""
        CREATE TABLE tracked_sends (
            id INTEGER PRIMARY KEY,
            intent_key TEXT NOT NULL UNIQUE,
            firing_id INTEGER NOT NULL REFERENCES firings (id),
            rule_id TEXT NOT NULL,
            app_token TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            params TEXT NOT NULL,
            spec TEXT NOT NULL,
            status TEXT NOT NULL,
            round INTEGER NOT NULL DEFAULT 0,
            issued_at REAL,
            round_deadline REAL,
            finished_at REAL,
            created_at REAL NOT NULL
        )""")
    db.execute("CREATE INDEX tracked_sends_open ON tracked_sends (status, round_deadline)")
    db.execute("CREATE INDEX tracked_sends_seq ON tracked_sends (app_token, seq, status)")
    db.execute("""
        CREATE TABLE send_targets (
            send_id INTEGER NOT NULL REFERENCES tracked_sends (id),
            module TEXT NOT NULL,
            gateway TEXT,
            status TEXT NOT NULL,
            acked_at REAL,
            acked_round INTEGER,
            ack_uplink TEXT,
            attempts INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (send_id, module)
        )""")
    db.execute("CREATE INDEX send_targets_waiting ON send_targets (module, status)")


@migrations()
def m003_uplinks_by_time(db: Database) -> None:
    """Uplinks identified by ``(ts, uuid)``, in one index that grows at its end.

    Conductor addresses an event by uuid and time (``/event/{uuid}/{time}``). An index on the
    uuid alone, and the one on ``(module, ts)``, take each new uplink to a random page: every
    cycle rewrote hundreds of pages, and the cost per uplink grew with the ledger (about 30 µs at
    20 MB, 90 µs at 120 MB). ``(ts, uuid)`` keeps each cycle's writes on the last few pages and
    also serves the time range queries (retention, listings) the ``ts`` index served.
    """
    db.execute("""
        CREATE TABLE uplinks_by_time (
            uuid TEXT NOT NULL,
            app_token TEXT NOT NULL,
            module TEXT NOT NULL,
            gateway TEXT,
            port INTEGER,
            ts REAL NOT NULL,
            time TEXT NOT NULL,
            payload_hex TEXT NOT NULL,
            decoder TEXT,
            decoded TEXT,
            decode_error TEXT,
            signal TEXT,
            received_at REAL NOT NULL
        )""")
    db.execute("""
        INSERT INTO uplinks_by_time (uuid, app_token, module, gateway, port, ts, time, payload_hex, decoder, decoded,
                                     decode_error, signal, received_at)
        SELECT uuid, app_token, module, gateway, port, ts, time, payload_hex, decoder, decoded, decode_error, signal, received_at
        FROM uplinks ORDER BY ts, uuid""")
    db.execute("DROP TABLE uplinks")
    db.execute("ALTER TABLE uplinks_by_time RENAME TO uplinks")
    db.execute("CREATE UNIQUE INDEX uplinks_identity ON uplinks (ts, uuid)")


@migrations()
def m004_cursor_sweeps(db: Database) -> None:
    """Two-tier polling: where the last full-overlap sweep of each AppToken stopped."""
    db.execute("ALTER TABLE cursors ADD COLUMN swept_ts REAL")


@migrations()
def m005_devices_by_token(db: Database) -> None:
    """Devices indexed by AppToken alone.

    Every uplink moves its device's ``last_seen``; an index on ``(app_token, last_seen)`` made
    each of those updates rewrite an index entry too (about 40% of the update). The queries by
    AppToken (silence, the devices a tracked send expects) read the few rows of one AppToken
    through this index and filter ``last_seen`` there.
    """
    db.execute("DROP INDEX IF EXISTS devices_token_seen")
    db.execute("CREATE INDEX devices_token ON devices (app_token)")


@migrations()
def m006_uplink_time_from_ts(db: Database) -> None:
    """Uplinks without the ``time`` text column.

    ``ts`` holds the same instant in epoch seconds (a double resolves 0.25 µs at today's times,
    so the microseconds read back exactly), and every reader already used ``ts``. Writing the text
    cost ~3.5% of the time per uplink and ~32 bytes per row. The table is copied once into the
    new layout, in ``(ts, uuid)`` order, as m003 did.
    """
    db.execute("""
        CREATE TABLE uplinks_without_time (
            uuid TEXT NOT NULL,
            app_token TEXT NOT NULL,
            module TEXT NOT NULL,
            gateway TEXT,
            port INTEGER,
            ts REAL NOT NULL,
            payload_hex TEXT NOT NULL,
            decoder TEXT,
            decoded TEXT,
            decode_error TEXT,
            signal TEXT,
            received_at REAL NOT NULL
        )""")
    db.execute("""
        INSERT INTO uplinks_without_time (uuid, app_token, module, gateway, port, ts, payload_hex, decoder, decoded, decode_error,
                                          signal, received_at)
        SELECT uuid, app_token, module, gateway, port, ts, payload_hex, decoder, decoded, decode_error, signal, received_at
        FROM uplinks ORDER BY ts, uuid""")
    db.execute("DROP TABLE uplinks")
    db.execute("ALTER TABLE uplinks_without_time RENAME TO uplinks")
    db.execute("CREATE UNIQUE INDEX uplinks_identity ON uplinks (ts, uuid)")


SCHEMA_VERSION = len(migrations._migrations)
