"""``fresh_uplinks``: the uplinks not in the ledger, each uuid once, oldest first with ties by uuid."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from rules_engine.conductor import Uplink
from rules_engine.ledger.store import Ledger
from rules_engine.config import EngineConfig
from rules_engine.pipeline.dedupe import StoredHorizon, fresh_uplinks

from .conftest import Rig

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def drop_known(conn: Any, uplinks: list[Uplink], horizon: float = float("inf")) -> list[Uplink]:
    return [uplink for _ts, uplink in fresh_uplinks(conn, uplinks, horizon)]


def test_known_and_repeated_uplinks_are_dropped_and_the_rest_sorted(tmp_path: Path) -> None:
    rng = random.Random(2)
    uplinks = [Uplink(uuid=f"u{i:03d}", time=START + timedelta(microseconds=rng.choice([0, 1, 2, 999_999, 10**6])), module="m")
               for i in range(200)]
    ledger = Ledger.open_writer(tmp_path / "ledger.db")
    try:
        known = uplinks[::3]
        ledger.conn.executemany(
            "INSERT INTO uplinks (uuid, app_token, module, ts, payload_hex, received_at) VALUES (?, '', 'm', ?, '', 0)",
            [(u.uuid, u.time.timestamp()) for u in known])
        offered = uplinks + uplinks[:50]  # some listed twice
        rng.shuffle(offered)
        fresh = drop_known(ledger.conn, offered)
    finally:
        ledger.close()
    expected = sorted((u for u in uplinks if u not in known), key=lambda u: (u.time, u.uuid))
    assert [u.uuid for u in fresh] == [u.uuid for u in expected]


def _insert(ledger: Ledger, rows: list[tuple[str, float]], app_token: str = "") -> None:
    ledger.conn.executemany(
        "INSERT INTO uplinks (uuid, app_token, module, ts, payload_hex, received_at) VALUES (?, ?, 'm', ?, '', 0)",
        [(uuid, app_token, ts) for uuid, ts in rows])


def test_the_stored_horizon_starts_at_the_newest_uplink_and_rises_per_app_token(tmp_path: Path) -> None:
    with Ledger.open_writer(tmp_path / "ledger.db") as ledger:
        assert StoredHorizon(ledger.conn).of("a") == float("-inf")  # an empty ledger: every uplink is new
        _insert(ledger, [("x", 100.0), ("y", 250.5), ("z", 7.0)])
        horizon = StoredHorizon(ledger.conn)
        assert horizon.of("a") == horizon.of("b") == 250.5
        horizon.advance("a", 300.0)
        horizon.advance("a", 260.0)  # never lowered
        assert (horizon.of("a"), horizon.of("b")) == (300.0, 250.5)


def test_an_uplink_at_the_horizon_is_still_looked_up_and_one_past_it_is_not(tmp_path: Path) -> None:
    at = START.timestamp()
    with Ledger.open_writer(tmp_path / "ledger.db") as ledger:
        _insert(ledger, [("stored", at), ("later-but-stored", at + 5)])
        offered = [Uplink(uuid="stored", time=START, module="m"), Uplink(uuid="new", time=START, module="m"),
                   Uplink(uuid="later-but-stored", time=START + timedelta(seconds=5), module="m")]
        # with the horizon at the first time, the row at +5 s is taken for new without a lookup:
        # that is what the horizon promises, so the engine only ever passes a true upper bound
        fresh = drop_known(ledger.conn, offered, at)
        assert [u.uuid for u in fresh] == ["new", "later-but-stored"]
        assert [u.uuid for u in drop_known(ledger.conn, offered, at + 5)] == ["new"]
        assert [u.uuid for u in drop_known(ledger.conn, offered)] == ["new"]


def test_the_engine_counts_each_uplink_once_over_overlapping_out_of_order_windows(rig: Rig) -> None:
    """Two AppTokens, new uplinks mixed with late ones and with re-reads of earlier ones, a restart
    half way: the engine's horizon never takes a stored uplink for new. Ground truth: the distinct
    uuids offered."""
    rng = random.Random(7)
    config = EngineConfig.model_validate({"app_tokens": {"a": {"token": "a" * 20}, "b": {"token": "b" * 20}}})
    engine = rig.engine("rules: []", config=config)
    offered: dict[str, Uplink] = {}
    processed = 0
    try:
        for step in range(60):
            if step == 30:
                engine.ledger.close()
                engine = rig.engine("rules: []", config=config)
            alias = rng.choice(["a", "b"])
            base = START + timedelta(seconds=10 * step)
            batch = []
            for i in range(rng.randint(1, 20)):
                late = rng.random() < 0.3
                when = base - timedelta(seconds=rng.randint(10, 200)) if late else base + timedelta(milliseconds=rng.randint(0, 9999))
                batch.append(Uplink(uuid=f"{alias}-{step}-{i}", time=when, module=f"m{i % 5}", app_token=alias * 20))
            again = [u for u in offered.values() if u.app_token == alias * 20]
            again = rng.sample(again, min(len(again), 8))
            offered.update((u.uuid, u) for u in batch)
            processed += engine._process(alias, batch + again, base.timestamp())
        (rows, distinct), = engine.ledger.conn.execute("SELECT count(*), count(DISTINCT uuid) FROM uplinks")
        (counted,), = engine.ledger.conn.execute("SELECT sum(uplinks) FROM devices")
        times = dict(engine.ledger.conn.execute("SELECT uuid, ts FROM uplinks"))
        last_seen = dict(engine.ledger.conn.execute("SELECT module, last_seen FROM devices"))
    finally:
        engine.ledger.close()
    assert processed == rows == distinct == counted == len(offered)
    # the times the dedupe stage computed are the ones written, for the uplink and for its device
    assert times == {u.uuid: u.time.timestamp() for u in offered.values()}
    newest: dict[str, float] = {}
    for u in offered.values():
        newest[u.module] = max(newest.get(u.module, 0.0), u.time.timestamp())
    assert last_seen == newest


def test_the_times_given_go_with_their_uplinks(tmp_path: Path) -> None:
    """``times`` (the parser's epoch seconds, in the order of the uplinks) are used as given; a
    list of another length is ignored and the times computed from the uplinks."""
    uplinks = [Uplink(uuid=f"u{i}", time=START + timedelta(seconds=i), module="m") for i in range(5)]
    given = [1000.0 - i for i in range(5)]  # not the uplinks' own: the order they give is the reverse
    ledger = Ledger.open_writer(tmp_path / "ledger.db")
    try:
        fresh = fresh_uplinks(ledger.conn, uplinks + uplinks[:2], times=given + given[:2])
        assert fresh == [(1000.0 - i, uplinks[i]) for i in reversed(range(5))]
        own = fresh_uplinks(ledger.conn, uplinks, times=given[:4])
        assert own == [(u.time.timestamp(), u) for u in uplinks]
    finally:
        ledger.close()
