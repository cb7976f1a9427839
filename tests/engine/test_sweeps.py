"""Two-tier polling: ordinary polls re-read only ``recent_overlap``; a sweep every
``sweep_interval`` re-reads the full late-ingest ``overlap``. Nothing late is lost, and what the
engine reads is a small multiple of the new data instead of overlap / interval times it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, AsyncIterator

import pytest

from rules_engine.conductor import ConductorClient
from rules_engine.engine import Engine
from rules_engine.errors import ConfigError
from rules_engine.config import EngineConfig
from rules_engine.ledger.records import get_cursor
from rules_engine.pipeline.poll import is_sweep_due
from rules_engine.simulator import Faults

from .conftest import DECODER, QUIET_RULES, TOKEN, Rig

RULES = QUIET_RULES


class WindowLog:
    """Records the time range of every uplink query the real client makes."""

    def __init__(self, client: ConductorClient) -> None:
        self.windows: list[tuple[datetime, datetime]] = []
        real = client.uplink_pages

        def recording(subject_type: Any, subject: str, start: datetime, stop: datetime, **kwargs: Any) -> AsyncIterator[Any]:
            self.windows.append((start, stop))
            return real(subject_type, subject, start, stop, **kwargs)

        client.uplink_pages = recording  # type: ignore[method-assign]

    def seconds(self) -> list[float]:
        return [(stop - start).total_seconds() for start, stop in self.windows]


def _engine(rig: Rig, **token: object) -> tuple[Engine, WindowLog]:
    engine = rig.engine(RULES, config=rig.config(**token))
    return engine, WindowLog(engine.conductor)


async def _close(engine: Engine) -> None:
    await engine.conductor.aclose()
    await engine.aclose()
    engine.ledger.close()


def test_a_sweep_is_due_first_and_then_every_sweep_interval() -> None:
    every = timedelta(seconds=60)
    assert is_sweep_due(None, 1000.0, every)
    assert not is_sweep_due(1000.0, 1059.0, every)
    assert is_sweep_due(1000.0, 1060.0, every)
    assert is_sweep_due(1000.0, 1000.0, timedelta(0))  # 0: every poll sweeps


async def test_ordinary_polls_reread_recent_overlap_and_sweeps_the_full_overlap(rig: Rig) -> None:
    engine, log = _engine(rig, poll_interval="10s", overlap="2m", recent_overlap="5s", sweep_interval="1m")
    try:
        await engine.poll("plant")  # first poll: the five-minute first lookback, a sweep
        for _ in range(12):
            rig.clock.advance(10)
            await engine.poll("plant")
        spans = log.seconds()[1:]
        # 10 s of new data + 5 s recent overlap, except each minute: a sweep of 1 min + 2 min overlap
        assert spans.count(15.0) == 10 and spans.count(180.0) == 2, spans
        sweeps = engine.metrics.sweeps.labels("plant")._value.get()
        assert sweeps == 3
        cursor = get_cursor(engine.ledger.conn, TOKEN)
        assert cursor is not None and cursor.swept_ts is not None
        assert cursor.cursor_ts - cursor.swept_ts < 60
    finally:
        await _close(engine)


async def test_uplinks_ingested_later_than_recent_overlap_are_read_by_the_next_sweep(rig: Rig) -> None:
    engine, log = _engine(rig, poll_interval="10s", overlap="1m", recent_overlap="5s", sweep_interval="30s")
    try:
        await engine.poll("plant")
        rig.simulator.set_faults(Faults(late_ingest_rate=0.5, late_ingest_s=40.0))
        for _ in range(12):
            rig.clock.advance(10)
            await engine.poll("plant")
        rig.simulator.set_faults(Faults())
        for _ in range(12):  # sweeps after the late ones became visible
            rig.clock.advance(10)
            await engine.poll("plant")
        horizon = engine.safe_now("plant")
        assert horizon is not None
        first_start = log.windows[0][0]
        truth = [u for u in rig.simulator.uplinks(app_token=TOKEN, visible_only=True, until=engine.conductor.latest_stop())
                 if first_start <= u.time and u.time.timestamp() <= horizon]
        stored = {row[0] for row in engine.ledger.conn.execute("SELECT uuid FROM uplinks")}
        late = [u for u in truth if (u.visible_from - u.time).total_seconds() >= 30]
        assert len(late) > 5
        assert [u.uuid for u in truth if u.uuid not in stored] == []  # late or not, none lost
        assert max(log.seconds()[1:]) < 120  # and no poll re-read more than a sweep's span
    finally:
        await _close(engine)


async def test_safe_now_follows_the_sweeps_not_the_cursor(rig: Rig) -> None:
    engine, _log = _engine(rig, poll_interval="10s", overlap="1m", recent_overlap="5s", sweep_interval="1m")
    try:
        assert engine.safe_now("plant") is None
        await engine.poll("plant")
        swept = engine.tokens["plant"].swept_ts
        assert swept is not None and engine.safe_now("plant") == swept - 60
        rig.clock.advance(10)
        await engine.poll("plant")  # an ordinary poll: the cursor moves, safe now does not
        assert engine.tokens["plant"].cursor_ts > swept
        assert engine.safe_now("plant") == swept - 60
    finally:
        await _close(engine)


async def test_a_restart_sweeps_from_where_the_last_sweep_stopped(rig: Rig) -> None:
    engine, _log = _engine(rig, poll_interval="10s", overlap="1m", recent_overlap="5s", sweep_interval="1m")
    await engine.poll("plant")
    rig.clock.advance(10)
    await engine.poll("plant")
    swept = engine.tokens["plant"].swept_ts
    await _close(engine)
    rig.clock.advance(100)
    again, log = _engine(rig, poll_interval="10s", overlap="1m", recent_overlap="5s", sweep_interval="1m")
    try:
        assert again.tokens["plant"].swept_ts == swept
        await again.poll("plant")
        (start, _stop), = log.windows
        assert start.timestamp() == pytest.approx(swept - 60)  # not the cursor: late ingest since the sweep is read
    finally:
        await _close(again)


async def test_a_ledger_from_before_sweeps_starts_with_one(rig: Rig) -> None:
    engine, _log = _engine(rig)
    await engine.poll("plant")
    engine.ledger.conn.execute("UPDATE cursors SET swept_ts = NULL")  # as migrated from schema 2
    cursor = engine.tokens["plant"].cursor_ts
    await _close(engine)
    rig.clock.advance(10)
    again, log = _engine(rig)
    try:
        assert again.tokens["plant"].swept_ts is None
        await again.poll("plant")
        (start, _stop), = log.windows
        assert start.timestamp() == pytest.approx(cursor - 60)  # the full overlap, as every poll read before
        assert again.tokens["plant"].swept_ts is not None
    finally:
        await _close(again)


def test_the_default_recent_overlap_never_exceeds_a_short_overlap() -> None:
    raw = {"app_tokens": {"plant": {"token": TOKEN, "decoder": "env", "overlap": "5s"}}, "decoders": {"env": DECODER}}
    token = EngineConfig.model_validate(raw).app_tokens["plant"]
    assert token.recent_overlap == timedelta(seconds=5)  # a config written before recent_overlap existed still loads
    default = EngineConfig.model_validate({**raw, "app_tokens": {"plant": {"token": TOKEN, "decoder": "env"}}})
    assert default.app_tokens["plant"].recent_overlap == timedelta(seconds=10)


async def test_with_a_short_overlap_every_poll_is_a_sweep(rig: Rig) -> None:
    engine, log = _engine(rig, poll_interval="10s", overlap="8s")  # recent_overlap defaults to 8 s too
    try:
        await engine.poll("plant")
        for _ in range(3):
            rig.clock.advance(10)
            await engine.poll("plant")
            assert engine.tokens["plant"].swept_ts == engine.tokens["plant"].cursor_ts  # safe now keeps up
        assert log.seconds()[1:] == [18.0, 18.0, 18.0]
        assert engine.metrics.sweeps.labels("plant")._value.get() == 4
    finally:
        await _close(engine)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ({"overlap": "30s", "recent_overlap": "1m"}, "recent_overlap (1m) cannot exceed overlap (30s)"),
        ({"poll_interval": "0s"}, "poll_interval must be positive"),
    ],
)
def test_window_settings_are_checked(token: dict[str, str], message: str) -> None:
    raw = {"app_tokens": {"plant": {"token": TOKEN, "decoder": "env", **token}}, "decoders": {"env": DECODER}}
    with pytest.raises((ConfigError, ValueError), match=message.replace("(", r"\(").replace(")", r"\)")):
        EngineConfig.model_validate(raw)


async def test_what_the_ledger_holds_is_dropped_before_parsing(rig: Rig) -> None:
    from rules_engine.pipeline.dedupe import known_filter
    from rules_engine.pipeline.poll import Window, fetch_window

    engine, _log = _engine(rig)
    try:
        await engine.poll("plant")
        stored = engine.ledger.conn.execute("SELECT count(*) FROM uplinks").fetchone()[0]
        rig.clock.advance(30)
        stop = engine.conductor.latest_stop()
        window = Window(stop - timedelta(minutes=3), stop)
        everything = await fetch_window(engine.conductor, TOKEN, window)
        filtered = await fetch_window(engine.conductor, TOKEN, window, known=known_filter(engine.ledger.conn))
        held = {row[0] for row in engine.ledger.conn.execute("SELECT uuid FROM uplinks")}
        assert len(held) == stored
        assert filtered.known == sum(1 for u in everything.uplinks if u.uuid in held) > 0
        assert [u.uuid for u in filtered.uplinks] == [u.uuid for u in everything.uplinks if u.uuid not in held]
        assert filtered.uplinks  # the 30 s since the first poll are new
        for fetched in (everything, filtered):  # each uplink's epoch time, computed by the parser, goes with it
            assert fetched.times == [u.time.timestamp() for u in fetched.uplinks]
        before = engine.metrics.duplicates.labels("plant")._value.get()
        await engine.poll("plant")
        assert engine.metrics.duplicates.labels("plant")._value.get() > before  # counted, though never parsed
    finally:
        await _close(engine)
