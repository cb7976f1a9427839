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
