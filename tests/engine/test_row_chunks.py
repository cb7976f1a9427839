"""Multi-row statements come in a few fixed sizes, so each is prepared once per connection
(ledger/_batches.py): a batch of any length is cut into ``most`` rows, then powers of two."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from rules_engine.conductor.models import Uplink
from rules_engine.ledger._batches import padded_length, row_chunks
from rules_engine.ledger.records import _CHUNK, _ROWS_PER_INSERT, _insert_uplinks_sql, _known_uuids_sql, insert_uplinks, known_uuids
from rules_engine.ledger.state import _ROWS_PER_UPSERT, LedgerState, _upsert_devices_sql
from rules_engine.ledger.store import Ledger
from rules_engine.models import DecodedUplink

SIZES = {1 << power for power in range(7)}  # 64, 32, ..., 1


@given(rows=st.integers(0, 1000), width=st.integers(1, 12))
def test_chunks_cover_the_values_in_order_in_fixed_sizes(rows: int, width: int) -> None:
    values = list(range(rows * width))
    chunks = list(row_chunks(values, width, 64))
    assert [value for _rows, chunk in chunks for value in chunk] == values
    assert all(len(chunk) == count * width and count in SIZES for count, chunk in chunks)
    sizes = [count for count, _chunk in chunks]
    assert sizes == sorted(sizes, reverse=True)  # the full chunks first, then the rest, largest first
    assert sum(1 for count in sizes if count < 64) <= 6  # the rest: at most one chunk per power of two


def test_any_batch_length_uses_the_same_few_statements(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    _insert_uplinks_sql.cache_clear()
    _upsert_devices_sql.cache_clear()
    written = 0
    with Ledger.open_writer(tmp_path / "ledger.db") as ledger:
        state = LedgerState(ledger.conn)
        for count in range(1, 3 * max(_ROWS_PER_INSERT, _ROWS_PER_UPSERT)):
            items = [DecodedUplink(uplink=Uplink(uuid=f"u{written + i}", time=start + timedelta(seconds=written + i),
                                                 module=f"m{written + i}", app_token="tok")) for i in range(count)]
            with ledger.transaction() as conn:
                insert_uplinks(conn, [item.__dict__ for item in items], 1.0)
                for item in items:
                    state.record_uplink(item.uplink.module, "tok", None, item.uplink.time)
                state.flush()
            written += count
        assert ledger.conn.execute("SELECT count(*) FROM uplinks").fetchone()[0] == written
        assert ledger.conn.execute("SELECT count(*) FROM devices").fetchone()[0] == written
    assert _insert_uplinks_sql.cache_info().currsize <= len(SIZES)
    assert _upsert_devices_sql.cache_info().currsize <= len(SIZES)  # all without state here


@given(length=st.integers(0, 5000))
def test_padded_length_is_the_next_power_of_two(length: int) -> None:
    padded = padded_length(length)
    assert padded >= max(length, 1) and padded & (padded - 1) == 0 and (padded == 1 or padded // 2 < length)


def test_lookups_of_any_length_find_exactly_the_known_uplinks_with_few_statements(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    stored = [Uplink(uuid=f"k{i}", time=start + timedelta(seconds=i // 3), module="m", app_token="tok") for i in range(2 * _CHUNK)]
    _known_uuids_sql.cache_clear()
    with Ledger.open_writer(tmp_path / "ledger.db") as ledger:
        with ledger.transaction() as conn:
            insert_uplinks(conn, [DecodedUplink(uplink=uplink).__dict__ for uplink in stored], 1.0)
        for length in [*range(1, 70), 255, 256, 257, _CHUNK - 1, _CHUNK, _CHUNK + 1, 3 * _CHUNK + 5]:
            # every third identity is stored; the others are a new uuid at a stored time, or a stored uuid at another time
            asked = [(uplink.time.timestamp(), uplink.uuid) for uplink in stored[(7 * length) % 400 :][:length]]
            asked = [(ts, uuid) if i % 3 == 0 else (ts, uuid + "x") if i % 3 == 1 else (ts + 0.5, uuid) for i, (ts, uuid) in enumerate(asked)]
            expected = {uuid for i, (_ts, uuid) in enumerate(asked) if i % 3 == 0}
            assert known_uuids(ledger.conn, asked) == expected, length
    assert _known_uuids_sql.cache_info().currsize <= (_CHUNK - 1).bit_length() + 1
