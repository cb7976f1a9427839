"""Retention: delete what the ledger no longer needs. Work still pending is never deleted."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import RetentionConfig
from .store import Ledger

__all__ = ["prune", "Pruned"]

_FINAL = "('done', 'failed', 'applied')"


@dataclass(frozen=True)
class Pruned:
    uplinks: int
    firings: int
    intents: int
    sends: int


def prune(ledger: Ledger, retention: RetentionConfig, now: float) -> Pruned:
    uplink_cut = now - retention.uplinks.total_seconds()
    firing_cut = now - retention.firings.total_seconds()
    send_cut = now - retention.sends.total_seconds()
    with ledger.transaction() as conn:
        uplinks = conn.execute("DELETE FROM uplinks WHERE ts < ?", (uplink_cut,)).rowcount
        sends = conn.execute(
            f"DELETE FROM sends WHERE issued_at < ? AND intent_key IN (SELECT key FROM outbox WHERE status IN {_FINAL})",
            (send_cut,),
        ).rowcount
        old_firings = "SELECT id FROM firings WHERE ts < ? AND id NOT IN (SELECT firing_id FROM outbox WHERE status NOT IN " + _FINAL + ")"
        intents = conn.execute(
            f"DELETE FROM outbox WHERE firing_id IN ({old_firings}) AND key NOT IN (SELECT intent_key FROM sends)", (firing_cut,)
        ).rowcount
        firings = conn.execute(
            f"DELETE FROM firings WHERE id IN ({old_firings}) AND id NOT IN (SELECT firing_id FROM outbox)", (firing_cut,)
        ).rowcount
    return Pruned(uplinks, firings, intents, sends)
