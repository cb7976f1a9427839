"""Read-only views of the ledger for the CLI, the demo summary and the status page."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from typing import Any

__all__ = ["summary", "list_uplinks", "list_firings", "list_intents", "list_sends", "firing_detail", "iso"]


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def summary(conn: sqlite3.Connection) -> dict[str, Any]:
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "uplinks": one("SELECT count(*) FROM uplinks"),
        "decode_errors": one("SELECT count(*) FROM uplinks WHERE decode_error IS NOT NULL"),
        "devices": one("SELECT count(*) FROM devices"),
        "firings": one("SELECT count(*) FROM firings"),
        "firings_by_rule": dict(conn.execute("SELECT rule_id, count(*) FROM firings GROUP BY rule_id ORDER BY 2 DESC").fetchall()),
        "intents": dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()),
        "sends": one("SELECT count(*) FROM sends WHERE issuance_id IS NOT NULL"),
        "cursors": [
            {**row, "cursor": iso(row.pop("cursor_ts")), "last_success": iso(row.pop("last_success_at"))}
            for row in _rows(conn, "SELECT alias, app_token, cursor_ts, last_success_at, consecutive_errors, last_error FROM cursors")
        ],
    }


def list_uplinks(conn: sqlite3.Connection, limit: int, module: str | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE module = ?", (module,)) if module else ("", ())
    rows = _rows(conn, f"SELECT uuid, ts, module, gateway, port, payload_hex, decoded, decode_error FROM uplinks {where} "
                       f"ORDER BY ts DESC LIMIT ?", (*params, limit))
    for row in rows:
        row["time"] = iso(row.pop("ts"))
        row["decoded"] = json.loads(row["decoded"]) if row["decoded"] else None
    return rows


def list_firings(conn: sqlite3.Connection, limit: int, rule: str | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE rule_id = ?", (rule,)) if rule else ("", ())
    rows = _rows(conn, f"SELECT id, rule_id, event_kind, event_id, ts, evaluation FROM firings {where} ORDER BY ts DESC, id DESC LIMIT ?",
                 (*params, limit))
    for row in rows:
        row["time"] = iso(row.pop("ts"))
        evaluation = json.loads(row.pop("evaluation"))
        row["why"] = evaluation.get("reason")
        row["values"] = evaluation.get("values")
    return rows


def list_intents(conn: sqlite3.Connection, limit: int, status: str | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE status = ?", (status,)) if status else ("", ())
    rows = _rows(conn, f"SELECT key, action, status, attempts, summary, last_error, result, updated_at FROM outbox {where} "
                       f"ORDER BY updated_at DESC LIMIT ?", (*params, limit))
    for row in rows:
        row["updated"] = iso(row.pop("updated_at"))
        row["result"] = json.loads(row["result"]) if row["result"] else None
    return rows


def list_sends(conn: sqlite3.Connection, limit: int) -> list[dict[str, Any]]:
    rows = _rows(conn, "SELECT id, rule_id, kind, issuance_id, app_token, module, gateways, payload_hex, port, issued_at, reconciled "
                       "FROM sends ORDER BY issued_at DESC LIMIT ?", (limit,))
    for row in rows:
        row["issued"] = iso(row.pop("issued_at"))
        row["gateways"] = json.loads(row["gateways"]) if row["gateways"] else None
        row["reconciled"] = bool(row["reconciled"])
    return rows


def firing_detail(conn: sqlite3.Connection, firing_id: int) -> dict[str, Any] | None:
    rows = _rows(conn, "SELECT id, rule_id, event_kind, event_id, ts, evaluation, created_at FROM firings WHERE id = ?", (firing_id,))
    if not rows:
        return None
    firing = rows[0]
    firing_ts = firing.pop("ts")
    firing["time"], firing["recorded"] = iso(firing_ts), iso(firing.pop("created_at"))
    firing["evaluation"] = json.loads(firing["evaluation"])
    firing["intents"] = _rows(conn, "SELECT key, action, status, attempts, params, summary, last_error, result FROM outbox "
                                    "WHERE firing_id = ? ORDER BY idx", (firing_id,))
    for intent in firing["intents"]:
        intent["params"] = json.loads(intent["params"])
        intent["result"] = json.loads(intent["result"]) if intent["result"] else None
    if firing["event_kind"] == "uplink":
        # an uplink firing's time is the uplink's: an index lookup, then a scan should that ever differ
        found = list_uplinks_by_uuid(conn, firing["event_id"], firing_ts) or list_uplinks_by_uuid(conn, firing["event_id"])
        firing["uplink"] = (found or [None])[0]
    return firing


def list_uplinks_by_uuid(conn: sqlite3.Connection, uuid: str, ts: float | None = None) -> list[dict[str, Any]]:
    """The uplink with this uuid; pass its time (a firing's ``ts``) for an index lookup instead of a scan."""
    where, params = ("ts = ? AND uuid = ?", (ts, uuid)) if ts is not None else ("uuid = ?", (uuid,))
    rows = _rows(conn, f"SELECT uuid, ts, module, gateway, port, payload_hex, decoded, decode_error FROM uplinks WHERE {where}", params)
    for row in rows:
        row["time"] = iso(row.pop("ts"))
        row["decoded"] = json.loads(row["decoded"]) if row["decoded"] else None
    return rows


def list_tracked_sends(conn: sqlite3.Connection, limit: int, status: str | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE s.status = ?", (status,)) if status else ("", ())
    rows = _rows(conn, f"""
        SELECT s.id, s.rule_id, s.kind, s.app_token, s.seq, s.status, s.round, s.issued_at, s.finished_at,
               count(t.module) AS expected,
               sum(t.status = 'acked') AS acked,
               sum(t.status = 'acked' AND t.acked_round > 0) AS acked_after_retry,
               sum(t.status = 'unreachable') AS unreachable
        FROM tracked_sends s LEFT JOIN send_targets t ON t.send_id = s.id {where}
        GROUP BY s.id ORDER BY s.id DESC LIMIT ?""", (*params, limit))
    for row in rows:
        row["issued"], row["finished"] = iso(row.pop("issued_at")), iso(row.pop("finished_at"))
        row["waiting"] = row["expected"] - (row["acked"] or 0) - (row["unreachable"] or 0)
        row["progress"] = f"{row['acked'] or 0}/{row['expected']}"
    return rows


def tracked_send_detail(conn: sqlite3.Connection, send_id: int) -> dict[str, Any] | None:
    sends = _rows(conn, "SELECT id, intent_key, rule_id, kind, app_token, seq, params, spec, status, round, issued_at, "
                        "round_deadline, finished_at FROM tracked_sends WHERE id = ?", (send_id,))
    if not sends:
        return None
    send = sends[0]
    send["params"], send["spec"] = json.loads(send["params"]), json.loads(send["spec"])
    for key in ("issued_at", "round_deadline", "finished_at"):
        send[key.replace("_at", "")] = iso(send.pop(key))
    targets = _rows(conn, "SELECT module, gateway, status, acked_at, acked_round, attempts, ack_uplink FROM send_targets "
                          "WHERE send_id = ? ORDER BY gateway, module", (send_id,))
    issued = send["issued"]
    for target in targets:
        target["acked"] = iso(target.pop("acked_at"))
        if target["status"] == "acked" and target["acked_round"]:
            target["status"] = "acked after retry"
    send["targets"] = targets
    gateways: dict[str, dict[str, int]] = {}
    for target in targets:
        counts = gateways.setdefault(target["gateway"] or "(unknown)", {"expected": 0, "acked": 0, "unreachable": 0, "waiting": 0})
        counts["expected"] += 1
        key = "acked" if target["status"].startswith("acked") else target["status"]
        counts[key] = counts.get(key, 0) + 1
    send["gateways"] = gateways
    send["downlinks"] = _rows(conn, "SELECT key, action, status, attempts, summary, result FROM outbox WHERE key = ? OR key LIKE ? "
                                    "ORDER BY created_at", (send["intent_key"], send["intent_key"] + "|round%"))
    send["issued"] = issued
    return send
