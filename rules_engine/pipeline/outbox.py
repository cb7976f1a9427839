"""Outbox stage: everything one cycle decided, written in one transaction. Nothing is sent here.

A cycle runs inside :func:`cycle`: the matcher's state reads and writes, ack matching, sequence
numbers and the rows below all belong to one ``BEGIN IMMEDIATE … COMMIT``; any error rolls the
whole cycle back and drops the state cache, so a crash at any point leaves the ledger as it was
before the cycle.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from ..acks.store import create_tracked_send
from ..ledger.records import insert_firing, insert_uplinks, set_cursor
from ..ledger.state import LedgerState
from ..ledger.store import Ledger
from ..models import Firing

__all__ = ["cycle", "write_firings", "write_uplinks", "advance_cursor"]


@contextmanager
def cycle(ledger: Ledger, state: LedgerState) -> Iterator[sqlite3.Connection]:
    try:
        with ledger.transaction() as conn:
            yield conn
            state.flush()
    except BaseException:
        state.discard()
        raise


def write_uplinks(conn: sqlite3.Connection, items: Iterable[dict[str, Any]], now: float, times: Iterable[float] | None = None) -> None:
    insert_uplinks(conn, items, now, times)


def write_firings(conn: sqlite3.Connection, firings: Iterable[Firing], now: float) -> int:
    """Insert firings with their intents (and tracked sends); returns how many were new."""
    new = 0
    for firing in firings:
        firing_id = insert_firing(conn, firing, now)
        if firing_id is None:
            continue
        new += 1
        for intent in firing.intents:
            if intent.error is None and "track" in intent.params:
                create_tracked_send(conn, firing_id, intent.key, intent.rule_id, intent.action, intent.params, now)
    return new


def advance_cursor(conn: sqlite3.Connection, app_token: str, alias: str | None, cursor_ts: float, now: float) -> None:
    set_cursor(conn, app_token, alias, cursor_ts, now)
