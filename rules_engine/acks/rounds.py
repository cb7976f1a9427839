"""Rounds of a tracked send: at the deadline, retry the silent devices within the budget
(re-multicast when many are missing, a Conductor-acked unicast to each when few are, paced per
gateway), or finish the send ``partial`` or ``expired``.

Deadlines are compared with the AppToken's cursor minus its overlap, the time up to which every
uplink has surely been seen, so an outage never turns late acks into needless retries.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from typing import Any

from ..ledger.records import PENDING
from ..models import SendEvent
from .matcher import send_details
from .store import TrackedSend, due_sends, finish_send, waiting_targets

__all__ = ["settle_due_sends"]


def _retry_intent(conn: sqlite3.Connection, send: TrackedSend, key: str, action: str, params: dict[str, Any],
                  summary: str, when: float, now: float) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO outbox (key, firing_id, rule_id, event_id, idx, action, params, summary, status, attempts, "
        "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, 0, ?, ?, ?)",
        (key, send.firing_id, send.rule_id, f"send:{send.id}", action, json.dumps(params), summary, PENDING, when, now, now),
    )


def _retry(conn: sqlite3.Connection, send: TrackedSend, missing: list[tuple[str, str | None]], expected: int, now: float) -> None:
    spec, round_ = send.spec, send.round + 1
    params = dict(send.params)
    last_send = now
    if send.kind == "multicast" and len(missing) / max(1, expected) > spec["multicast_above"]:
        _retry_intent(conn, send, f"{send.intent_key}|round{round_}", "multicast", params,
                      f"re-multicast seq {send.seq} (round {round_}): {len(missing)} of {expected} device(s) silent", now, now)
    else:
        per_gateway: dict[str | None, int] = {}
        for module, gateway in missing:
            slot = per_gateway.get(gateway, 0)
            per_gateway[gateway] = slot + 1
            when = now + slot * spec["gateway_interval_s"]
            last_send = max(last_send, when)
            unicast = {"module": module, "gateway": None, "payload_hex": params["payload_hex"], "port": params["port"],
                       "ttl_s": params["ttl_s"], "priority": params["priority"], "acked": True}
            _retry_intent(conn, send, f"{send.intent_key}|round{round_}|{module}", "unicast", unicast,
                          f"unicast seq {send.seq} to silent {module} (round {round_})", when, now)
    conn.execute("UPDATE send_targets SET attempts = attempts + 1 WHERE send_id = ? AND status = 'waiting'", (send.id,))
    conn.execute("UPDATE tracked_sends SET round = ?, round_deadline = ? WHERE id = ?",
                 (round_, last_send + spec["retry_deadline_s"], send.id))


def settle_due_sends(conn: sqlite3.Connection, app_token: str, safe_now: float, now: float) -> list[SendEvent]:
    """Handle every open send of ``app_token`` whose round deadline is behind ``safe_now``."""
    events = []
    for send in due_sends(conn, app_token, safe_now):
        missing = waiting_targets(conn, send.id)
        expected = conn.execute("SELECT count(*) FROM send_targets WHERE send_id = ?", (send.id,)).fetchone()[0]
        if missing and send.round < send.spec["rounds"]:
            _retry(conn, send, missing, expected, now)
            continue
        acked = expected - len(missing)
        outcome = "complete" if not missing else ("partial" if acked else "expired")
        finish_send(conn, send.id, outcome, now)
        events.append(SendEvent(send_id=str(send.id), rule_id=send.rule_id, outcome=outcome,
                                time=datetime.fromtimestamp(safe_now, tz=timezone.utc),
                                details=send_details(conn, send.id, send.rule_id, send.seq, send.round)))
    return events
