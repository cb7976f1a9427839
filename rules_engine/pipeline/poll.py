"""Poll stage: which windows to ask Conductor for, and fetching one window completely.

Windows overlap what was read before (Conductor ingests late; the dedupe stage drops what was
already seen), stop one second before now (Conductor rejects a future stop time) and are split
into chunks after an outage, so a long catch-up commits its progress chunk by chunk.

Polling is two-tier, because re-reading the whole late-ingest overlap on every poll costs many
times the new data: an ordinary poll re-reads only ``recent_overlap`` before the cursor, and
every ``sweep_interval`` a *sweep* re-reads from the previous sweep's stop minus the full
``overlap``. Every uplink ingested up to ``overlap`` late is still read, at the latest by the
next sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..conductor import ConductorClient, SubjectType, Uplink
from ..conductor._wire import KnownFilter

__all__ = ["Window", "Fetched", "plan_windows", "is_sweep_due", "fetch_window"]


@dataclass(frozen=True)
class Window:
    start: datetime
    stop: datetime


def plan_windows(
    cursor: datetime | None, latest_stop: datetime, *, overlap: timedelta, first_lookback: timedelta, chunk: timedelta,
) -> list[Window]:
    """The windows of one poll: from ``cursor - overlap`` (or ``latest_stop - first_lookback`` on
    the very first poll) to ``latest_stop``, in chunks of at most ``chunk``."""
    start = (cursor - overlap) if cursor is not None else (latest_stop - first_lookback)
    windows = []
    while start < latest_stop:
        stop = min(start + chunk, latest_stop)
        windows.append(Window(start, stop))
        start = stop
    return windows


def is_sweep_due(swept_ts: float | None, stop_ts: float, sweep_interval: timedelta) -> bool:
    """Whether a poll stopping at ``stop_ts`` re-reads the full overlap: the first poll (nothing
    swept yet), then whenever ``sweep_interval`` has passed since the last sweep's stop."""
    return swept_ts is None or stop_ts - swept_ts >= sweep_interval.total_seconds()


@dataclass
class Fetched:
    """One window's uplinks, their times in epoch seconds (same order), and how many results were
    dropped unparsed as already known."""

    uplinks: list[Uplink]
    known: int = 0
    times: list[float] = field(default_factory=list)


async def fetch_window(
    client: ConductorClient, app_token: str, window: Window, *, known: KnownFilter | None = None
) -> Fetched:
    """Every uplink of one window (all pages); each uuid once; the AppToken filled in if absent.
    ``known`` (``pipeline.dedupe.known_filter``) drops what the ledger already holds before parsing."""
    seen: set[str] = set()
    found: list[Uplink] = []
    times: list[float] = []
    skipped = 0
    async for page in client.uplink_pages(SubjectType.APP_TOKEN, app_token, window.start, window.stop, known=known):
        skipped += page.skipped
        stamps = page.times if len(page.times) == len(page.uplinks) else [u.time.timestamp() for u in page.uplinks]
        for ts, uplink in zip(stamps, page.uplinks):
            fields = uplink.__dict__  # one model attribute read instead of two (see ledger/records.py)
            uuid = fields["uuid"]
            if uuid in seen:
                continue
            seen.add(uuid)
            if fields["app_token"] is None:
                uplink = uplink.model_copy(update={"app_token": app_token})
            found.append(uplink)
            times.append(ts)
    return Fetched(found, skipped, times)
