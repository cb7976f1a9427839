"""Ack matching: a new uplink from a device a tracked send is waiting for is checked against the
send's ack condition; a match marks the device acked, and the last one completes the send."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from typing import Any, Callable

from ..models import DecodedUplink, SendEvent
from ..pipeline.context import uplink_fields
from ..pipeline.modifiers import truthy
from .spec import seq_hex
from .store import finish_send, mark_acked, modules_waiting, open_sends_waiting_for, target_counts

__all__ = ["AckMatcher", "send_details"]

#: An ack may carry a device timestamp slightly before our record of the issue time (clock skew).
ISSUE_MARGIN_S = 5.0


def send_details(conn: sqlite3.Connection, send_id: int, rule_id: str, seq: int, round_: int) -> dict[str, Any]:
    counts = target_counts(conn, send_id)
    missing = [row[0] for row in conn.execute(
        "SELECT module FROM send_targets WHERE send_id = ? AND status IN ('waiting', 'unreachable') ORDER BY module", (send_id,))]
    after_retry = conn.execute("SELECT count(*) FROM send_targets WHERE send_id = ? AND status = 'acked' AND acked_round > 0",
                               (send_id,)).fetchone()[0]
    return {"rule": rule_id, "seq": seq, "seq_hex": seq_hex(seq), "rounds": round_, "expected": sum(counts.values()),
            "acked": counts.get("acked", 0), "acked_after_retry": after_retry, "missing": missing}


class AckMatcher:
    def __init__(self, compile_expr: Callable[[Any], Callable[[dict[str, Any]], Any]]) -> None:
        self.compile_expr = compile_expr
        self._conditions: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self.acked = 0
        self.latencies: list[float] = []

    def _condition(self, raw: Any) -> Callable[[dict[str, Any]], Any]:
        key = json.dumps(raw, sort_keys=True)
        if key not in self._conditions:
            self._conditions[key] = self.compile_expr(raw)
        return self._conditions[key]

    def waiting(self, conn: sqlite3.Connection) -> set[str]:
        """Modules some open send waits for; fetched once per cycle."""
        return modules_waiting(conn)

    def observe(self, conn: sqlite3.Connection, item: DecodedUplink, waiting: set[str]) -> list[SendEvent]:
        uplink = item.uplink
        if uplink.module not in waiting:
            return []
        events: list[SendEvent] = []
        ts = uplink.time.timestamp()
        for send in open_sends_waiting_for(conn, uplink.module):
            if send.issued_at is None or ts < send.issued_at - ISSUE_MARGIN_S:
                continue
            context = {
                "uplink": uplink_fields(item), "decoded": item.decoded, "now": ts,
                "send": {"id": send.id, "seq": send.seq, "seq_hex": seq_hex(send.seq), "rule": send.rule_id,
                         "app_token": send.app_token, "round": send.round},
            }
            try:
                matched = truthy(self._condition(send.spec["condition"])(context))
            except Exception:  # noqa: BLE001 - a bad plugin operator must not stop the cycle
                matched = False
            if not matched or not mark_acked(conn, send.id, uplink.module, ts, send.round, uplink.uuid):
                continue
            self.acked += 1
            self.latencies.append(max(0.0, ts - send.issued_at))
            if target_counts(conn, send.id).get("waiting", 0) == 0:
                finish_send(conn, send.id, "complete", ts)
                events.append(SendEvent(send_id=str(send.id), rule_id=send.rule_id, outcome="complete",
                                        time=datetime.fromtimestamp(ts, tz=timezone.utc),
                                        details=send_details(conn, send.id, send.rule_id, send.seq, send.round)))
        return events
