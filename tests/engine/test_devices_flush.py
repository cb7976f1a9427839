"""``LedgerState.flush`` writes the devices of a cycle many rows per statement, grouped by
AppToken: every device lands with its own values, in any count and mix of new and known devices,
AppTokens, changed AppTokens, gateways and state."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from rules_engine.ledger.state import _ROWS_PER_UPSERT, LedgerState
from rules_engine.ledger.store import Ledger

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("count", [1, _ROWS_PER_UPSERT - 1, _ROWS_PER_UPSERT, _ROWS_PER_UPSERT + 1, 3 * _ROWS_PER_UPSERT + 7])
def test_every_device_is_written_with_its_values(tmp_path: Path, count: int) -> None:
    tokens = ("a", "b", None)
    expected: dict[str, tuple] = {}
    with Ledger.open_writer(tmp_path / "ledger.db") as ledger:
        state = LedgerState(ledger.conn)
        for cycle in range(3):  # new devices, then known ones (some of them with another AppToken), then after a restart
            if cycle == 2:
                state = LedgerState(ledger.conn)
            with ledger.transaction():
                for i in range(count):
                    if (i + cycle) % 3 == 0 and cycle:
                        continue  # not heard in this cycle: its row stays as it was
                    module = f"m{i:04d}"
                    token = tokens[(i + (cycle if i % 4 == 0 else 0)) % 3]
                    gateway = None if i % 5 == 0 else f"gw{(i + cycle) % 4}"
                    at = START + timedelta(seconds=cycle, microseconds=i)
                    record = state.record_uplink(module, token, gateway, at, at.timestamp() if i % 2 else None)
                    if i % 7 == 0:
                        # some devices lose their state in the last cycle: an empty state is written as such
                        state.set_device_state(module, "mode", None if cycle == 2 and i % 2 == 0 else cycle)
                    expected[module] = (module, record.app_token, at.timestamp(), record.last_gateway, record.uplinks,
                                        f'{{"mode":{cycle}}}' if i % 7 == 0 and not (cycle == 2 and i % 2 == 0) else "{}")
                state.flush()
            rows = ledger.conn.execute("SELECT module, app_token, last_seen, last_gateway, uplinks, state FROM devices ORDER BY module").fetchall()
            assert rows == [expected[module] for module in sorted(expected)], f"cycle {cycle}"
