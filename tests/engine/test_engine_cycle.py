"""The engine's stages end to end, in process, against the simulator over real HTTP."""

from __future__ import annotations

import json

from rules_engine.ledger.store import Ledger

from .conftest import TOKEN, Rig

EVERY_UPLINK = """
rules:
  - id: echo
    trigger: {uplink: {app_token: plant, port: 1}}
    condition: {"==": [{"%": [{var: decoded.counter}, 4]}, 0]}
    actions:
      - unicast: {payload: [{type: u8, value: 0x42}], port: 9}
"""


async def test_poll_processes_each_uplink_once_and_fires(rig: Rig) -> None:
    engine = rig.engine(EVERY_UPLINK)
    try:
        first = await engine.poll("plant")
        rig.clock.advance(120)
        second = await engine.poll("plant")
        truth = rig.simulator.uplinks(app_token=TOKEN, visible_only=True, until=engine.conductor.latest_stop())
        stored = {row[0] for row in engine.ledger.conn.execute("SELECT uuid FROM uplinks")}
        lookback_start = rig.clock.now().timestamp() - 120 - 300
        expected = {r.uuid for r in truth if r.time.timestamp() >= lookback_start - 1}
        assert expected <= stored and first + second == len(stored)
        fired = engine.ledger.conn.execute("SELECT count(*) FROM firings WHERE rule_id = 'echo'").fetchone()[0]
        counter_three = [r for r in truth if r.port == 1 and bytes.fromhex(r.payload_hex)[7] % 4 == 0 and r.uuid in stored]
        assert fired == len(counter_three) > 0
        handled = await engine.dispatch()
        assert handled == fired
        sent = rig.simulator.commands()
        assert sorted(c.targets[0] for c in sent) == sorted(r.module for r in counter_three)
        assert all(c.payload_hex == "42" and c.port == 9 for c in sent)
        statuses = dict(engine.ledger.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
        assert statuses == {"done": fired}
        assert engine.ledger.conn.execute("SELECT count(*) FROM sends WHERE issuance_id IS NOT NULL").fetchone()[0] == fired
    finally:
        await engine.conductor.aclose()
        await engine.aclose()
        engine.ledger.close()


async def test_restart_resumes_from_the_cursor_without_duplicates(rig: Rig) -> None:
    rules = EVERY_UPLINK.replace('{"==": [{"%": [{var: decoded.counter}, 4]}, 0]}', "true")
    engine = rig.engine(rules)
    await engine.poll("plant")
    await engine.dispatch()
    before = engine.ledger.conn.execute("SELECT count(*) FROM uplinks").fetchone()[0]
    await engine.conductor.aclose()
    engine.ledger.close()
    rig.clock.advance(300)
    again = rig.engine(rules)
    try:
        new = await again.poll("plant")
        await again.dispatch()
        after = again.ledger.conn.execute("SELECT count(*) FROM uplinks").fetchone()[0]
        assert after == before + new
        firings = again.ledger.conn.execute("SELECT count(*) FROM firings").fetchone()[0]
        data_uplinks = again.ledger.conn.execute("SELECT count(*) FROM uplinks WHERE port = 1").fetchone()[0]
        commands = rig.simulator.commands()
        assert firings == data_uplinks == len(commands)  # the rest are the devices' ack replies on port 7
        events = [json.loads(row[0])["event_id"] for row in again.ledger.conn.execute("SELECT evaluation FROM firings")]
        assert len(set(events)) == len(events)
    finally:
        await again.conductor.aclose()
        await again.aclose()
        again.ledger.close()


async def test_a_second_writer_is_refused(rig: Rig) -> None:
    import pytest

    from rules_engine.errors import LedgerError

    first = Ledger.open_writer(rig.tmp / "ledger.db")
    try:
        with pytest.raises(LedgerError, match=r"already in use by another rules-engine process \(pid \d+\)"):
            Ledger.open_writer(rig.tmp / "ledger.db")
        reader = Ledger.open_reader(rig.tmp / "ledger.db")
        assert reader.conn.execute("SELECT count(*) FROM uplinks").fetchone()[0] == 0
        reader.close()
    finally:
        first.close()


def _page_of(rig: Rig, engine: object) -> dict[str, object]:
    records = rig.simulator.uplinks(app_token=TOKEN, visible_only=True, until=engine.conductor.latest_stop())  # type: ignore[attr-defined]
    results = [{"uuid": r.uuid, "time": r.time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{r.time.microsecond // 1000:03d}",
                "metadata": {"props": {"app_tok": TOKEN}},
                "value": {"module": r.module, "gateway": r.gateway, "portNumber": str(r.port), "pld": r.payload_hex}}
               for r in records]
    return {"results": results, "moreRecordsExist": False}


async def test_an_uplink_listed_twice_in_one_batch_is_processed_once(rig: Rig) -> None:
    from rules_engine.conductor._wire import parse_uplink_page

    engine = rig.engine(EVERY_UPLINK.replace('{"==": [{"%": [{var: decoded.counter}, 4]}, 0]}', "true"))
    try:
        uplinks = list(parse_uplink_page(_page_of(rig, engine), "http://sim/events").uplinks)
        data = [u for u in uplinks if u.port == 1]
        assert engine._process("plant", uplinks + data[:3], engine.clock.now().timestamp()) == len(uplinks)
        conn = engine.ledger.conn
        assert conn.execute("SELECT count(*), count(DISTINCT uuid) FROM uplinks").fetchone() == (len(uplinks), len(uplinks))
        assert conn.execute("SELECT count(*) FROM firings").fetchone()[0] == len(data)
        assert conn.execute("SELECT sum(uplinks) FROM devices").fetchone()[0] == len(uplinks)
    finally:
        await engine.conductor.aclose()
        await engine.aclose()
        engine.ledger.close()


async def test_a_page_read_again_is_deduped_before_parsing(rig: Rig) -> None:
    from rules_engine.conductor._wire import parse_uplink_page
    from rules_engine.pipeline.dedupe import known_filter

    engine = rig.engine(EVERY_UPLINK)
    try:
        body = _page_of(rig, engine)
        first = parse_uplink_page(body, "http://sim/events", known=known_filter(engine.ledger.conn))
        assert first.skipped == 0 and first.uplinks
        engine._process("plant", list(first.uplinks[:-5]), engine.clock.now().timestamp())
        again = parse_uplink_page(body, "http://sim/events", known=known_filter(engine.ledger.conn))
        assert again.skipped == len(first.uplinks) - 5
        assert [u.uuid for u in again.uplinks] == [u.uuid for u in first.uplinks[-5:]]
        assert engine._process("plant", list(again.uplinks), engine.clock.now().timestamp()) == 5
    finally:
        await engine.conductor.aclose()
        await engine.aclose()
        engine.ledger.close()
