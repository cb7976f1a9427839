"""A poll that fails for a reason that is not Conductor's (a bug, a ledger that refuses writes) is
recorded as a failed poll, like a Conductor error: health, metric, ledger; the cursor stays."""

from __future__ import annotations

from typing import Any, AsyncIterator

import pytest

from rules_engine.ledger.records import get_cursor

from .conftest import QUIET_RULES, TOKEN, Rig

RULES = QUIET_RULES


async def test_an_error_that_is_not_conductors_is_a_failed_poll(rig: Rig) -> None:
    engine = rig.engine(RULES)
    try:
        assert await engine.poll("plant") > 0
        health = engine.tokens["plant"]
        cursor_before = health.cursor_ts
        real = engine.conductor.uplink_pages

        async def broken(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            raise RuntimeError("disk on fire")
            yield  # pragma: no cover - makes this an async generator

        engine.conductor.uplink_pages = broken  # type: ignore[method-assign]
        rig.clock.advance(30)
        with pytest.raises(RuntimeError, match="disk on fire"):
            await engine.poll("plant")
        assert health.consecutive_errors == 1 and health.last_error == "RuntimeError: disk on fire"
        assert health.cursor_ts == cursor_before
        assert engine.metrics.poll_errors.labels("plant")._value.get() == 1
        stored = get_cursor(engine.ledger.conn, TOKEN)
        assert stored is not None and stored.last_error == "RuntimeError: disk on fire" and stored.consecutive_errors == 1

        engine.conductor.uplink_pages = real  # type: ignore[method-assign]
        assert await engine.poll("plant") > 0
        assert health.consecutive_errors == 0 and health.last_error is None and health.cursor_ts > cursor_before
    finally:
        await engine.conductor.aclose()
        await engine.aclose()
        engine.ledger.close()


async def test_a_ledger_that_refuses_writes_fails_the_poll_with_its_own_error(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """Recording the failed poll in the ledger fails too: the poll's own error is the one raised,
    health and metric still say so, and the log says both."""
    import sqlite3

    engine = rig.engine(QUIET_RULES)
    try:
        assert await engine.poll("plant") > 0
        health = engine.tokens["plant"]
        cursor_before, stored_before = health.cursor_ts, engine.ledger.conn.execute("SELECT count(*) FROM uplinks").fetchone()[0]
        engine.ledger.conn.execute("PRAGMA query_only = ON")
        rig.clock.advance(60)
        with pytest.raises(sqlite3.OperationalError, match="readonly") as raised:
            await engine.poll("plant")
        assert "could not be recorded" not in str(raised.value)
        assert health.consecutive_errors == 1 and health.last_error is not None
        assert health.last_error.startswith("OperationalError: attempt to write a readonly database")
        assert health.cursor_ts == cursor_before
        messages = [record.getMessage() for record in caplog.records]
        assert "poll failed; the cursor stays" in messages
        assert "the failed poll could not be recorded in the ledger" in messages

        engine.ledger.conn.execute("PRAGMA query_only = OFF")
        health.next_poll_after = 0.0
        assert await engine.poll("plant") > 0
        assert engine.ledger.conn.execute("SELECT count(*) FROM uplinks").fetchone()[0] > stored_before
        assert health.consecutive_errors == 0 and health.cursor_ts > cursor_before
    finally:
        await engine.conductor.aclose()
        await engine.aclose()
        engine.ledger.close()
