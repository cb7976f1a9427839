"""Dedupe stage: Conductor's uuid is an uplink's identity; drop the ones the ledger already has."""

from __future__ import annotations

import sqlite3

from ..conductor import Uplink
from ..conductor._wire import KnownFilter
from ..ledger.records import known_uuids

__all__ = ["drop_known", "known_filter"]


def drop_known(conn: sqlite3.Connection, uplinks: list[Uplink]) -> list[Uplink]:
    """The uplinks not yet in the ledger, oldest first (ties by uuid, so replays agree); an uplink
    listed twice in ``uplinks`` counts once."""
    if not uplinks:
        return []
    unique: dict[str, Uplink] = {}
    for uplink in uplinks:
        unique.setdefault(uplink.uuid, uplink)
    known = known_uuids(conn, [(uplink.time.timestamp(), uuid) for uuid, uplink in unique.items()])
    fresh = [uplink for uuid, uplink in unique.items() if uuid not in known]
    fresh.sort(key=lambda uplink: (uplink.time, uplink.uuid))
    return fresh


def known_filter(conn: sqlite3.Connection) -> KnownFilter:
    """For ``parse_uplink_page(..., known=)``: results the ledger already holds are dropped before
    they are parsed. :func:`drop_known` still runs inside the cycle's transaction."""
    return lambda identities: known_uuids(conn, identities)
