"""``context.uplink.time`` is ``datetime.isoformat()``, formatted from a cache of whole seconds."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from rules_engine.pipeline.context import utc_isoformat


def test_the_cached_text_is_isoformat_for_any_time() -> None:
    rng = random.Random(5)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    times = [epoch + timedelta(seconds=rng.randint(-10**9, 4 * 10**9), microseconds=rng.choice([0, 1, 999_999, rng.randint(0, 999_999)]))
             for _ in range(20_000)]
    times += [datetime(2026, 3, 1, 12, tzinfo=timezone(timedelta(hours=2))), datetime(2026, 3, 1, 12, 0, 0, 500)]  # other zone, naive
    for time in times + times:  # the second pass reads the cache
        ts = time.timestamp()
        assert utc_isoformat(time, ts) == time.isoformat()
