"""Outbox stage: the uplinks of a window, their firings and action intents, the state the
modifiers changed and the cursor advance, written in one transaction. Nothing is sent here."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ledger.records import insert_firing, insert_uplinks, set_cursor
from ..ledger.state import LedgerState
from ..ledger.store import Ledger
from ..models import DecodedUplink, Firing

__all__ = ["CycleWrite", "commit_cycle"]


@dataclass
class CycleWrite:
    uplinks: list[DecodedUplink] = field(default_factory=list)
    firings: list[Firing] = field(default_factory=list)
    app_token: str | None = None
    alias: str | None = None
    cursor_ts: float | None = None


def commit_cycle(ledger: Ledger, state: LedgerState, write: CycleWrite, now: float) -> int:
    """Commit one cycle; returns the number of new firings. On any error nothing is kept."""
    new_firings = 0
    try:
        with ledger.transaction() as conn:
            insert_uplinks(conn, write.uplinks, now)
            for firing in write.firings:
                if insert_firing(conn, firing, now) is not None:
                    new_firings += 1
            state.flush()
            if write.app_token is not None and write.cursor_ts is not None:
                set_cursor(conn, write.app_token, write.alias, write.cursor_ts, now)
    except BaseException:
        state.discard()
        raise
    return new_firings
