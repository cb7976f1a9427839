"""Tracked sends in the ledger. Functions run inside the caller's transaction."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from .spec import SEQ_MODULUS

__all__ = [
    "TrackedSend",
    "allocate_seq",
    "create_tracked_send",
    "mark_issued",
    "open_sends_waiting_for",
    "mark_acked",
    "due_sends",
    "waiting_targets",
    "finish_send",
    "target_counts",
    "modules_waiting",
]

PENDING, OPEN = "pending", "open"
FINAL = ("complete", "partial", "expired")


@dataclass(frozen=True)
class TrackedSend:
    id: int
    intent_key: str
    firing_id: int
    rule_id: str
    app_token: str
    seq: int
    kind: str
    params: dict[str, Any]
    spec: dict[str, Any]
    status: str
    round: int
    issued_at: float | None
    round_deadline: float | None


_COLUMNS = "id, intent_key, firing_id, rule_id, app_token, seq, kind, params, spec, status, round, issued_at, round_deadline"


def _send(row: tuple[Any, ...]) -> TrackedSend:
    return TrackedSend(*row[:7], json.loads(row[7]), json.loads(row[8]), *row[9:])  # type: ignore[arg-type]


def allocate_seq(conn: sqlite3.Connection, app_token: str) -> int:
    """The next sequence number of an AppToken: 32-bit, wrapping, never one of an open send."""
    row = conn.execute("SELECT next FROM send_seq WHERE app_token = ?", (app_token,)).fetchone()
    seq = row[0] if row else 1
    in_use = {r[0] for r in conn.execute(
        "SELECT seq FROM tracked_sends WHERE app_token = ? AND status IN (?, ?)", (app_token, PENDING, OPEN))}
    for _ in range(len(in_use) + 1):
        if seq not in in_use:
            break
        seq = (seq + 1) % SEQ_MODULUS
    conn.execute("INSERT INTO send_seq (app_token, next) VALUES (?, ?) ON CONFLICT (app_token) DO UPDATE SET next = excluded.next",
                 (app_token, (seq + 1) % SEQ_MODULUS))
    return seq


def create_tracked_send(conn: sqlite3.Connection, firing_id: int, intent_key: str, rule_id: str, action: str,
                        params: dict[str, Any], now: float) -> int:
    track = params["track"]
    cursor = conn.execute(
        "INSERT INTO tracked_sends (intent_key, firing_id, rule_id, app_token, seq, kind, params, spec, status, round, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
        (intent_key, firing_id, rule_id, track["app_token"], track["seq"], action,
         json.dumps({k: v for k, v in params.items() if k != "track"}), json.dumps(track["spec"]), PENDING, now),
    )
    send_id = int(cursor.lastrowid or 0)
    conn.executemany(
        "INSERT OR IGNORE INTO send_targets (send_id, module, gateway, status) VALUES (?, ?, ?, 'waiting')",
        [(send_id, module, gateway) for module, gateway in track["expected"]],
    )
    if not track["expected"]:
        conn.execute("UPDATE tracked_sends SET status = 'complete', finished_at = ? WHERE id = ?", (now, send_id))
    return send_id


def mark_issued(conn: sqlite3.Connection, intent_key: str, issued_at: float) -> None:
    """The first downlink of a tracked send left: its deadline starts now."""
    row = conn.execute("SELECT id, spec FROM tracked_sends WHERE intent_key = ? AND status = ?", (intent_key, PENDING)).fetchone()
    if row is None:
        return
    deadline = json.loads(row[1])["deadline_s"]
    conn.execute("UPDATE tracked_sends SET status = ?, issued_at = ?, round_deadline = ? WHERE id = ?",
                 (OPEN, issued_at, issued_at + deadline, row[0]))


def modules_waiting(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute(
        "SELECT DISTINCT t.module FROM send_targets t JOIN tracked_sends s ON s.id = t.send_id "
        "WHERE t.status = 'waiting' AND s.status IN (?, ?)", (PENDING, OPEN))}


def open_sends_waiting_for(conn: sqlite3.Connection, module: str) -> list[TrackedSend]:
    prefixed = ", ".join(f"s.{c.strip()}" for c in _COLUMNS.split(","))
    return [_send(row) for row in conn.execute(
        f"SELECT {prefixed} FROM send_targets t JOIN tracked_sends s ON s.id = t.send_id "
        "WHERE t.module = ? AND t.status = 'waiting' AND s.status = ?", (module, OPEN))]


def mark_acked(conn: sqlite3.Connection, send_id: int, module: str, at: float, round_: int, uplink: str) -> bool:
    cursor = conn.execute(
        "UPDATE send_targets SET status = 'acked', acked_at = ?, acked_round = ?, ack_uplink = ? "
        "WHERE send_id = ? AND module = ? AND status = 'waiting'", (at, round_, uplink, send_id, module))
    return cursor.rowcount == 1


def target_counts(conn: sqlite3.Connection, send_id: int) -> dict[str, int]:
    return dict(conn.execute("SELECT status, count(*) FROM send_targets WHERE send_id = ? GROUP BY status", (send_id,)).fetchall())


def waiting_targets(conn: sqlite3.Connection, send_id: int) -> list[tuple[str, str | None]]:
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT module, gateway FROM send_targets WHERE send_id = ? AND status = 'waiting' ORDER BY module", (send_id,))]


def due_sends(conn: sqlite3.Connection, app_token: str, safe_now: float) -> list[TrackedSend]:
    return [_send(row) for row in conn.execute(
        f"SELECT {_COLUMNS} FROM tracked_sends WHERE status = ? AND app_token = ? AND round_deadline <= ? ORDER BY id",
        (OPEN, app_token, safe_now))]


def finish_send(conn: sqlite3.Connection, send_id: int, outcome: str, now: float) -> None:
    conn.execute("UPDATE send_targets SET status = 'unreachable' WHERE send_id = ? AND status = 'waiting'", (send_id,))
    conn.execute("UPDATE tracked_sends SET status = ?, finished_at = ? WHERE id = ?", (outcome, now, send_id))
