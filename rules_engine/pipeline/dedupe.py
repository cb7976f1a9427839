"""Dedupe stage: Conductor's uuid is an uplink's identity; drop the ones the ledger already has."""

from __future__ import annotations

import sqlite3
from operator import itemgetter

from ..conductor import Uplink
from ..conductor._wire import KnownFilter
from ..ledger.records import known_uuids

__all__ = ["drop_known", "known_filter"]


def drop_known(conn: sqlite3.Connection, uplinks: list[Uplink]) -> list[Uplink]:
    """The uplinks not yet in the ledger, oldest first (ties by uuid, so replays agree); an uplink
    listed twice in ``uplinks`` counts once."""
    if not uplinks:
        return []
    stamped: dict[str, tuple[float, Uplink]] = {}
    for uplink in uplinks:
        if uplink.uuid not in stamped:
            stamped[uplink.uuid] = (uplink.time.timestamp(), uplink)
    known = known_uuids(conn, [(ts, uuid) for uuid, (ts, _uplink) in stamped.items()])
    fresh = [(ts, uuid, uplink) for uuid, (ts, uplink) in stamped.items() if uuid not in known]
    fresh.sort(key=_time_then_uuid)  # epoch seconds order as the times do (distinct microseconds stay distinct)
    return [uplink for _ts, _uuid, uplink in fresh]


_time_then_uuid = itemgetter(0, 1)


def known_filter(conn: sqlite3.Connection) -> KnownFilter:
    """For ``parse_uplink_page(..., known=)``: results the ledger already holds are dropped before
    they are parsed. :func:`drop_known` still runs inside the cycle's transaction."""
    return lambda identities: known_uuids(conn, identities)
