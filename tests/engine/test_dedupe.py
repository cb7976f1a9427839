"""``drop_known``: the uplinks not in the ledger, each uuid once, oldest first with ties by uuid."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rules_engine.conductor import Uplink
from rules_engine.ledger.store import Ledger
from rules_engine.pipeline.dedupe import drop_known

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_known_and_repeated_uplinks_are_dropped_and_the_rest_sorted(tmp_path: Path) -> None:
    rng = random.Random(2)
    uplinks = [Uplink(uuid=f"u{i:03d}", time=START + timedelta(microseconds=rng.choice([0, 1, 2, 999_999, 10**6])), module="m")
               for i in range(200)]
    ledger = Ledger.open_writer(tmp_path / "ledger.db")
    try:
        known = uplinks[::3]
        ledger.conn.executemany(
            "INSERT INTO uplinks (uuid, app_token, module, ts, time, payload_hex, received_at) VALUES (?, '', 'm', ?, '', '', 0)",
            [(u.uuid, u.time.timestamp()) for u in known])
        offered = uplinks + uplinks[:50]  # some listed twice
        rng.shuffle(offered)
        fresh = drop_known(ledger.conn, offered)
    finally:
        ledger.close()
    expected = sorted((u for u in uplinks if u not in known), key=lambda u: (u.time, u.uuid))
    assert [u.uuid for u in fresh] == [u.uuid for u in expected]
