"""Rows of the ledger: what a poll cycle writes, and what the dispatcher reads and updates.

Functions take the connection of an open transaction; they never commit themselves.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any, Iterable

from ..jsonfast import dumps
from ..models import Firing, Intent
from ._batches import padded_length, row_chunks

__all__ = [
    "Cursor",
    "OutboxRow",
    "known_uuids",
    "newest_uplink_ts",
    "insert_uplinks",
    "insert_firing",
    "get_cursor",
    "set_cursor",
    "set_swept",
    "record_poll_error",
    "due_intents",
    "intents_with_status",
    "set_intent_status",
    "record_send",
    "claimed_issuance_ids",
    "PENDING",
    "IN_FLIGHT",
    "DONE",
    "FAILED",
    "APPLIED",
]

PENDING, IN_FLIGHT, DONE, FAILED, APPLIED = "pending", "in_flight", "done", "failed", "applied"
_CHUNK = 512  # a power of two (see padded_length)


@dataclass(frozen=True)
class Cursor:
    app_token: str
    cursor_ts: float
    last_success_at: float | None
    last_error: str | None
    last_error_at: float | None
    consecutive_errors: int
    swept_ts: float | None = None


@dataclass(frozen=True)
class OutboxRow:
    key: str
    rule_id: str
    event_id: str
    action: str
    params: dict[str, Any]
    summary: str
    status: str
    attempts: int
    created_at: float


def known_uuids(conn: sqlite3.Connection, uplinks: Iterable[tuple[float, str]]) -> set[str]:
    """The uuids among ``(ts, uuid)`` pairs that the ledger already holds (an uplink's identity
    is its uuid at its time, as Conductor addresses it)."""
    wanted: dict[float, set[str]] = {}
    for ts, uuid in uplinks:
        wanted.setdefault(ts, set()).add(uuid)
    found: set[str] = set()
    times = list(wanted)
    for start in range(0, len(times), _CHUNK):
        chunk = times[start : start + _CHUNK]
        chunk += chunk[-1:] * (padded_length(len(chunk)) - len(chunk))  # a few statement sizes (see ledger/_batches.py)
        for ts, uuid in conn.execute(_known_uuids_sql(len(chunk)), chunk):
            if uuid in wanted[ts]:
                found.add(uuid)
    return found


@lru_cache(maxsize=None)
def _known_uuids_sql(times: int) -> str:
    return f"SELECT ts, uuid FROM uplinks WHERE ts IN ({','.join('?' * times)})"


def newest_uplink_ts(conn: sqlite3.Connection) -> float:
    """The time of the newest uplink in the ledger (``-inf`` when it holds none): one lookup at
    the end of the ``(ts, uuid)`` index."""
    (newest,) = conn.execute("SELECT max(ts) FROM uplinks").fetchone()
    return float("-inf") if newest is None else float(newest)


_UPLINK_COLUMNS = ("uuid", "app_token", "module", "gateway", "port", "ts", "payload_hex", "decoder", "decoded",
                   "decode_error", "signal", "received_at")
#: Rows per INSERT statement: one statement of many rows costs ~15% less per row than
#: ``executemany`` (a statement step, and a release of the GIL, per row).
_ROWS_PER_INSERT = 64
#: Bound once per statement as ?1, ?2, ?3: the rows of a statement share them. Binding a text
#: costs SQLite an allocation and a copy (~800 instructions), a fifth of writing the row.
_SHARED = ("app_token", "decoder", "received_at")


@lru_cache(maxsize=None)  # 2 x 7 statements (see row_chunks)
def _insert_uplinks_sql(rows: int, errors: bool) -> str:
    """An INSERT of ``rows`` rows; without ``errors``, every row's ``decode_error`` is NULL (a
    ``None`` would go through sqlite3's adapter lookup, which raises and clears an
    AttributeError for each value, ~2,500 instructions)."""
    own = [column for column in _UPLINK_COLUMNS if column not in _SHARED and (errors or column != "decode_error")]
    texts = []
    for row in range(rows):
        first = len(_SHARED) + 1 + row * len(own)
        numbers = {column: f"?{first + offset}" for offset, column in enumerate(own)}
        numbers.update({column: f"?{index}" for index, column in enumerate(_SHARED, 1)})
        texts.append("(" + ", ".join(numbers.get(column, "NULL") for column in _UPLINK_COLUMNS) + ")")
    return f"INSERT OR IGNORE INTO uplinks ({', '.join(_UPLINK_COLUMNS)}) VALUES " + ", ".join(texts)


# A pydantic model's field values are its ``__dict__``: one read of it and an itemgetter replace a
# model attribute read per field (BaseModel's ``__getattr__`` keeps CPython from specialising those).
_ITEM_FIELDS = itemgetter("uplink", "decoder", "decoded", "decode_error")
_UPLINK_FIELDS = itemgetter("uuid", "app_token", "module", "gateway", "port", "payload", "signal", "time")


def insert_uplinks(conn: sqlite3.Connection, items: Iterable[dict[str, Any]], now: float, times: Iterable[float] | None = None) -> None:
    """``items``: the field values of :class:`DecodedUplink` models (a model's ``__dict__``, or
    ``Decoding.decode_fields``); ``times``: each item's ``uplink.time`` in epoch seconds, in the
    same order, when the caller has them."""
    batches: dict[tuple[str, str | None, bool], list[Any]] = {}
    for item, ts in zip(items, times) if times is not None else ((item, None) for item in items):
        uplink, decoder, decoded, error = _ITEM_FIELDS(item)
        uuid, app_token, module, gateway, port, payload, signal, time = _UPLINK_FIELDS(uplink.__dict__)
        if ts is None:
            ts = time.timestamp()
        key = (app_token or "", decoder, error is not None)
        values = batches.get(key)
        if values is None:
            values = batches[key] = []
        values += (uuid, module, gateway, port, ts, payload.hex().upper(), dumps(decoded) if decoded else None)
        if error is not None:
            values.append(error)
        values.append(dumps(signal.__dict__) if signal is not None else None)
    for (app_token, decoder, errors), values in batches.items():
        width = len(_UPLINK_COLUMNS) - len(_SHARED) - (not errors)
        for rows, chunk in row_chunks(values, width, _ROWS_PER_INSERT):
            conn.execute(_insert_uplinks_sql(rows, errors), [app_token, decoder, now, *chunk])


def insert_firing(conn: sqlite3.Connection, firing: Firing, now: float) -> int | None:
    """Insert a firing and its intents; ``None`` (and nothing written) if it was already recorded."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO firings (rule_id, event_id, event_kind, ts, evaluation, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (firing.rule_id, firing.event_id, firing.event_kind, firing.time.timestamp(),
         firing.evaluation.model_dump_json(), now),
    )
    if cursor.rowcount == 0:
        return None
    firing_id = int(cursor.lastrowid or 0)
    conn.executemany(
        "INSERT OR IGNORE INTO outbox (key, firing_id, rule_id, event_id, idx, action, params, summary, status, attempts, "
        "next_attempt_at, last_error, result, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL, ?, ?)",
        [_intent_row(intent, firing_id, now) for intent in firing.intents],
    )
    return firing_id


def _intent_row(intent: Intent, firing_id: int, now: float) -> tuple[Any, ...]:
    status = FAILED if intent.error else APPLIED if intent.local else PENDING
    return (intent.key, firing_id, intent.rule_id, intent.event_id, intent.index, intent.action,
            json.dumps(intent.params, default=str), intent.summary, status, now, intent.error, now, now)


def get_cursor(conn: sqlite3.Connection, app_token: str) -> Cursor | None:
    row = conn.execute(
        "SELECT app_token, cursor_ts, last_success_at, last_error, last_error_at, consecutive_errors, swept_ts "
        "FROM cursors WHERE app_token = ?",
        (app_token,),
    ).fetchone()
    return Cursor(*row) if row else None


def set_cursor(conn: sqlite3.Connection, app_token: str, alias: str | None, cursor_ts: float, now: float) -> None:
    conn.execute(
        "INSERT INTO cursors (app_token, alias, cursor_ts, last_success_at, consecutive_errors) VALUES (?, ?, ?, ?, 0) "
        "ON CONFLICT (app_token) DO UPDATE SET alias = excluded.alias, cursor_ts = max(cursor_ts, excluded.cursor_ts), "
        "last_success_at = excluded.last_success_at, consecutive_errors = 0",
        (app_token, alias, cursor_ts, now),
    )


def set_swept(conn: sqlite3.Connection, app_token: str, swept_ts: float) -> None:
    """Everything up to ``swept_ts`` was read with the full overlap (never moves back)."""
    conn.execute("UPDATE cursors SET swept_ts = max(coalesce(swept_ts, ?), ?) WHERE app_token = ?",
                 (swept_ts, swept_ts, app_token))


def record_poll_error(conn: sqlite3.Connection, app_token: str, alias: str | None, cursor_ts: float, error: str, now: float) -> None:
    conn.execute(
        "INSERT INTO cursors (app_token, alias, cursor_ts, last_error, last_error_at, consecutive_errors) VALUES (?, ?, ?, ?, ?, 1) "
        "ON CONFLICT (app_token) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at, "
        "consecutive_errors = consecutive_errors + 1",
        (app_token, alias, cursor_ts, error, now),
    )


def _outbox_row(row: tuple[Any, ...]) -> OutboxRow:
    return OutboxRow(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7], row[8])


_OUTBOX_COLUMNS = "key, rule_id, event_id, action, params, summary, status, attempts, created_at"


def due_intents(conn: sqlite3.Connection, now: float, limit: int = 100) -> list[OutboxRow]:
    return [_outbox_row(row) for row in conn.execute(
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE status = ? AND next_attempt_at <= ? ORDER BY created_at, key LIMIT ?",
        (PENDING, now, limit),
    )]


def intents_with_status(conn: sqlite3.Connection, status: str) -> list[OutboxRow]:
    return [_outbox_row(row) for row in conn.execute(
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE status = ? ORDER BY created_at, key", (status,))]


def set_intent_status(
    conn: sqlite3.Connection, key: str, status: str, now: float, *, error: str | None = None,
    result: dict[str, Any] | None = None, next_attempt_at: float | None = None, count_attempt: bool = False,
) -> None:
    conn.execute(
        "UPDATE outbox SET status = ?, updated_at = ?, last_error = coalesce(?, last_error), result = coalesce(?, result), "
        "next_attempt_at = coalesce(?, next_attempt_at), attempts = attempts + ? WHERE key = ?",
        (status, now, error, json.dumps(result) if result is not None else None, next_attempt_at, int(count_attempt), key),
    )


def record_send(
    conn: sqlite3.Connection, intent: OutboxRow, issuance_id: str | None, issued_at: float | None, *, reconciled: bool = False,
) -> None:
    params = intent.params
    conn.execute(
        "INSERT INTO sends (intent_key, rule_id, kind, issuance_id, app_token, module, gateways, payload_hex, port, issued_at, reconciled) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (intent_key) DO UPDATE SET issuance_id = excluded.issuance_id, "
        "issued_at = excluded.issued_at, reconciled = excluded.reconciled",
        (intent.key, intent.rule_id, intent.action, issuance_id, params.get("app_token"), params.get("module"),
         json.dumps(params.get("gateways")) if params.get("gateways") else None, params.get("payload_hex", ""),
         params.get("port", 0), issued_at, int(reconciled)),
    )


def claimed_issuance_ids(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT issuance_id FROM sends WHERE issuance_id IS NOT NULL")}
