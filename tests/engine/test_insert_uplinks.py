"""``insert_uplinks`` writes many rows per statement, with the values they share bound once: every
row lands with its own values, in any count and mix of AppTokens, decoders and decode errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from rules_engine.conductor.models import SymphonySignal, Uplink
from rules_engine.ledger.records import _ROWS_PER_INSERT, insert_uplinks
from rules_engine.ledger.store import Ledger
from rules_engine.models import DecodedUplink

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _item(i: int) -> DecodedUplink:
    uplink = Uplink(uuid=f"u{i:04d}", time=START + timedelta(milliseconds=37 * i), module=f"m{i % 7}", gateway=None if i % 5 else "gw",
                    port=i % 3, payload=bytes([i % 256, 0xAB]), app_token=("tok", "tok", "other", None)[i % 4 - 1 if i % 11 else 3],
                    signal=SymphonySignal(sf=9, rssi=-i) if i % 2 else None)
    return DecodedUplink(uplink=uplink, decoder="env" if i % 4 else None, decoded={"n": i} if i % 4 else {},
                         decode_error=None if i % 9 else "env: bad")


@pytest.mark.parametrize("count", [0, 1, _ROWS_PER_INSERT - 1, _ROWS_PER_INSERT, _ROWS_PER_INSERT + 1, 3 * _ROWS_PER_INSERT + 22])
def test_every_row_is_written_with_its_values(tmp_path: Path, count: int) -> None:
    items = [_item(i) for i in range(count)]
    with Ledger.open_writer(tmp_path / "ledger.db") as ledger:
        with ledger.transaction() as conn:
            insert_uplinks(conn, [item.__dict__ for item in items[::2]], 99.0)
            insert_uplinks(conn, [item.__dict__ for item in items[1::2]], 99.0, [item.uplink.time.timestamp() for item in items[1::2]])  # times given
            insert_uplinks(conn, [item.__dict__ for item in items[: count // 2]], 100.0)  # already there: ignored
        rows = ledger.conn.execute(
            "SELECT uuid, app_token, module, gateway, port, ts, payload_hex, decoder, decoded, decode_error, signal, received_at "
            "FROM uplinks ORDER BY uuid").fetchall()
    expected = []
    for item in items:
        u = item.uplink
        expected.append((u.uuid, u.app_token or "", u.module, u.gateway, u.port, u.time.timestamp(), u.payload.hex().upper(),
                         item.decoder, json.dumps(item.decoded, separators=(",", ":")) if item.decoded else None, item.decode_error,
                         json.dumps(u.signal.model_dump(), separators=(",", ":")) if u.signal else None, 99.0))
    assert rows == expected


def test_the_stored_epoch_time_reads_back_to_the_microsecond(tmp_path: Path) -> None:
    """The ledger keeps an uplink's time only as ``ts`` (epoch seconds, REAL): the exact time, with
    its microseconds, must come back from it (docs/operations.md, the ledger)."""
    rng = __import__("random").Random(11)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    times = [epoch + timedelta(seconds=rng.randint(0, 4 * 10**9), microseconds=rng.choice([0, 1, 999_999, rng.randint(0, 999_999)]))
             for _ in range(5_000)]
    items = [DecodedUplink(uplink=Uplink(uuid=f"t{i:05d}", time=time, module="m", app_token="tok")) for i, time in enumerate(times)]
    with Ledger.open_writer(tmp_path / "ledger.db") as ledger:
        with ledger.transaction() as conn:
            insert_uplinks(conn, [item.__dict__ for item in items], 1.0)
        stored = dict(ledger.conn.execute("SELECT uuid, ts FROM uplinks").fetchall())
    assert len(stored) == len(items)
    for item in items:
        assert datetime.fromtimestamp(stored[item.uplink.uuid], timezone.utc) == item.uplink.time, item.uplink.uuid
