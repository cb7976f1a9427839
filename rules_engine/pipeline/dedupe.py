"""Dedupe stage: Conductor's uuid is an uplink's identity; drop the ones the ledger already has.

Asking the ledger costs an index lookup per uplink time. :class:`StoredHorizon` spares most of
them: per AppToken, a time no uplink in the ledger is newer than, so an uplink past it is new
without asking. Polls read forward in time, so nearly every uplink of a poll that is not an
overlap re-read is past its AppToken's horizon.
"""

from __future__ import annotations

import sqlite3
from operator import itemgetter
from typing import Callable, Sequence

from ..conductor import Uplink
from ..conductor._wire import KnownFilter
from ..ledger.records import known_uuids, newest_uplink_ts

__all__ = ["StoredHorizon", "fresh_uplinks", "known_filter"]


class StoredHorizon:
    """Per AppToken, an upper bound of the times of its uplinks in the ledger.

    It is the newest uplink time in the whole ledger when first asked (one index lookup), raised
    by :meth:`advance` after each commit of this process, the ledger's only writer. An uplink
    newer than the bound of its AppToken cannot be in the ledger. Retention only deletes, which
    keeps the bound an upper bound; an uncommitted cycle never raises it.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._floor: float | None = None
        self._newest: dict[str, float] = {}

    def of(self, app_token: str) -> float:
        if self._floor is None:
            self._floor = newest_uplink_ts(self._conn)
        newest = self._newest.get(app_token)
        return self._floor if newest is None or newest < self._floor else newest

    def advance(self, app_token: str, ts: float) -> None:
        """Uplinks of ``app_token`` up to ``ts`` were committed."""
        if ts > self._newest.get(app_token, float("-inf")):
            self._newest[app_token] = ts


def fresh_uplinks(conn: sqlite3.Connection, uplinks: list[Uplink], horizon: float = float("inf"),
                  times: Sequence[float] | None = None) -> list[tuple[float, Uplink]]:
    """The uplinks not yet in the ledger, oldest first (ties by uuid, so replays agree), each with
    its time in epoch seconds (``times``, in the order of ``uplinks``, when the caller has them:
    ``UplinkPage.times``); an uplink listed twice in ``uplinks`` counts once. Only uplinks not
    newer than ``horizon`` (see :class:`StoredHorizon`; by default all) are looked up."""
    if not uplinks:
        return []
    if times is None or len(times) != len(uplinks):
        times = [uplink.__dict__["time"].timestamp() for uplink in uplinks]
    stamped: dict[str, tuple[float, Uplink]] = {}
    for ts, uplink in zip(times, uplinks):
        uuid = uplink.__dict__["uuid"]  # a model attribute read through __dict__ (see ledger/records.py)
        if uuid not in stamped:
            stamped[uuid] = (ts, uplink)
    known = known_uuids(conn, [(ts, uuid) for uuid, (ts, _uplink) in stamped.items() if ts <= horizon])
    fresh = [(ts, uuid, uplink) for uuid, (ts, uplink) in stamped.items() if uuid not in known]
    fresh.sort(key=_time_then_uuid)  # epoch seconds order as the times do (distinct microseconds stay distinct)
    return [(ts, uplink) for ts, _uuid, uplink in fresh]


_time_then_uuid = itemgetter(0, 1)


def known_filter(conn: sqlite3.Connection, horizon: float = float("inf")) -> KnownFilter:
    """For ``parse_uplink_page(..., known=)``: results the ledger already holds are dropped before
    they are parsed. :func:`fresh_uplinks` still runs inside the cycle's transaction."""
    check: Callable[[list[tuple[float, str]]], set[str]] = lambda identities: known_uuids(
        conn, [identity for identity in identities if identity[0] <= horizon])
    return check
