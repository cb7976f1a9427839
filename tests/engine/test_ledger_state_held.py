"""``LedgerState.held``: every modifier state under a key, including state written by an earlier
process, kept in step with writes, deletes and a rollback's ``discard``."""

from __future__ import annotations

from pathlib import Path

from rules_engine.ledger.state import LedgerState
from rules_engine.ledger.store import Ledger
from rules_engine.state import MemoryStateStore


def test_held_sees_state_from_an_earlier_process_and_follows_writes(tmp_path: Path) -> None:
    ledger = Ledger.open_writer(tmp_path / "ledger.db")
    try:
        first = LedgerState(ledger.conn)
        with ledger.transaction():
            first.set_rule_state("hot", "edge", "m1", {"armed": False})
            first.set_rule_state("cold", "for", "m1", {"since": 1.0, "count": 2})
            first.set_rule_state("cold", "for", "m2", {"since": 1.0, "count": 1})
            first.flush()

        later = LedgerState(ledger.conn)  # a restart: nothing cached yet
        assert set(later.held("m1")) == {("hot", "edge"), ("cold", "for")}
        assert set(later.held("m3")) == set()
        with ledger.transaction():
            later.set_rule_state("hot", "edge", "m1", None)
            later.set_rule_state("hot", "cooldown", "m3", {"last": 5.0})
            later.flush()
        assert set(later.held("m1")) == {("cold", "for")}
        assert set(later.held("m3")) == {("hot", "cooldown")}

        later.set_rule_state("cold", "for", "m2", None)  # then the cycle rolls back
        later.discard()
        assert set(later.held("m2")) == {("cold", "for")}
        assert later.peek_rule_state("cold", "for", "m2") == {"since": 1.0, "count": 1}
    finally:
        ledger.close()


def test_the_memory_store_keeps_the_same_index() -> None:
    store = MemoryStateStore()
    store.set_rule_state("hot", "edge", "m1", {"armed": False})
    store.set_rule_state("cold", "for", "m1", {"count": 1})
    assert set(store.held("m1")) == {("hot", "edge"), ("cold", "for")}
    store.set_rule_state("hot", "edge", "m1", None)
    store.set_rule_state("hot", "edge", "m9", None)  # deleting what is not there changes nothing
    assert set(store.held("m1")) == {("cold", "for")}
    store.set_rule_state("cold", "for", "m1", None)
    assert set(store.held("m1")) == set()


def test_devices_are_inserted_once_then_updated_and_a_row_deleted_behind_the_cache_is_written_again(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    ledger = Ledger.open_writer(tmp_path / "ledger.db")
    try:
        state = LedgerState(ledger.conn)
        at = datetime(2026, 1, 1, tzinfo=timezone.utc)
        for count in (1, 2):
            with ledger.transaction():
                state.record_uplink("m1", "tok", "gw1", at)
                state.record_uplink("m2", "tok", "gw2", at)
                state.set_device_state("m2", "mode", count)
                state.flush()
            rows = ledger.conn.execute("SELECT module, uplinks, state FROM devices ORDER BY module").fetchall()
            assert rows == [("m1", count, "{}"), ("m2", count, f'{{"mode":{count}}}')]
        ledger.conn.execute("DELETE FROM devices WHERE module = 'm1'")
        with ledger.transaction():
            state.record_uplink("m1", "tok", "gw1", at)
            state.flush()
        assert ledger.conn.execute("SELECT uplinks FROM devices WHERE module = 'm1'").fetchone() == (3,)
    finally:
        ledger.close()


def test_a_device_that_changes_app_token_is_written_with_the_new_one(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with Ledger.open_writer(tmp_path / "ledger.db") as ledger:
        state = LedgerState(ledger.conn)
        steps = [("m1", "a", "gw1"), ("m2", "a", "gw1"), ("m1", "a", "gw2"), ("m1", "b", "gw2"), ("m2", None, "gw3"), ("m1", "b", None)]
        for step, (module, token, gateway) in enumerate(steps):
            if step == 3:
                state = LedgerState(ledger.conn)  # a restart: the AppToken comes from the ledger
            with ledger.transaction():
                state.record_uplink(module, token, gateway, at + timedelta(seconds=step))
                state.flush()
        rows = ledger.conn.execute("SELECT module, app_token, last_gateway, uplinks, last_seen FROM devices ORDER BY module").fetchall()
        assert rows == [("m1", "b", "gw2", 4, (at + timedelta(seconds=5)).timestamp()),
                        ("m2", "a", "gw3", 2, (at + timedelta(seconds=4)).timestamp())]
        # the queries by AppToken read the index on it
        plan = " ".join(str(row) for row in ledger.conn.execute(
            "EXPLAIN QUERY PLAN SELECT module FROM devices WHERE app_token = ? AND last_seen <= ?", ("a", 0.0)))
        assert "devices_token" in plan
