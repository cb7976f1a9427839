"""Schedule and silence triggers, and in-doubt downlinks, driven by a manual clock."""

from __future__ import annotations

from datetime import timedelta

from rules_engine.clock import ManualClock
from rules_engine.scheduler import EngineScheduler
from rules_engine.simulator import Faults, FleetConfig, Simulator, SimulatorServer

from .conftest import TOKEN, Rig

HEARTBEAT = """
rules:
  - id: heartbeat
    trigger: {schedule: {every: 1m}}
    actions:
      - multicast: {app_token: plant, port: 12, payload: [{type: u8, value: 0x10}, {type: u32_be, expr: {var: now}}]}
"""


async def test_schedule_rules_fire_once_per_time_even_across_restarts(rig: Rig) -> None:
    engine = rig.engine(HEARTBEAT)
    scheduler = EngineScheduler(engine)
    await scheduler._schedules()                   # first sight: remembers now, fires nothing for the past
    assert engine.ledger.conn.execute("SELECT count(*) FROM firings").fetchone()[0] == 0
    rig.clock.advance(61)
    await scheduler._schedules()
    await scheduler._schedules()                   # the same tick again: nothing new
    assert engine.ledger.conn.execute("SELECT count(*) FROM firings").fetchone()[0] == 1
    await engine.conductor.aclose()
    engine.ledger.close()
    rig.clock.advance(60 * 5 + 1)                  # down for five minutes: the missed runs coalesce into one
    again = rig.engine(HEARTBEAT)
    await EngineScheduler(again)._schedules()
    times = [row[0] for row in again.ledger.conn.execute("SELECT event_id FROM firings ORDER BY ts")]
    assert len(times) == 2 and len(set(times)) == 2
    await again.dispatch()
    payloads = [c.payload_hex for c in rig.simulator.commands()]
    assert len(payloads) == 2 and all(p.startswith("10") for p in payloads)
    await again.conductor.aclose()
    again.ledger.close()


async def test_silence_uses_the_cursor_not_the_wall_clock(tmp_path) -> None:
    for seed in range(100):  # a fleet whose slow module happens to report in the first two minutes
        clock = ManualClock()
        fleet = FleetConfig.generate(devices=4, gateways=1, seed=seed, app_token_hashes=[TOKEN], uplink_interval_s=60)
        quiet = fleet.modules[0].address
        fleet = fleet.model_copy(update={"modules": [fleet.modules[0].model_copy(update={"uplink_interval_s": 3600}),
                                                     *fleet.modules[1:]]})
        simulator = Simulator(fleet, clock=clock)
        simulator.advance(120)
        if simulator.uplinks(module=quiet):
            break
    with SimulatorServer(simulator) as server:
        rig = Rig(clock, simulator, server, tmp_path)
        engine = rig.engine("""
            rules:
              - id: gone-quiet
                trigger: {silence: {after: 5m, app_token: plant}}
                actions: [log: {message: "{device.module} silent"}]
        """)
        await engine.poll("plant")
        first_seen = dict(engine.ledger.conn.execute("SELECT module, last_seen FROM devices").fetchall())
        assert quiet in first_seen                  # its one uplink at the start
        assert engine.check_silence() == 0
        clock.advance(400)                          # the wall clock moved, but nothing was polled since
        assert engine.check_silence() == 0
        await engine.poll("plant")
        assert engine.check_silence() == 1         # now the cursor says: quiet for more than 5 minutes
        assert engine.check_silence() == 0         # once per silence
        firing = engine.ledger.conn.execute("SELECT event_id FROM firings").fetchone()[0]
        assert firing.startswith(f"silence:{quiet}:")
        await engine.conductor.aclose()
        engine.ledger.close()


async def test_a_lost_issue_command_answer_is_reconciled_not_resent(rig: Rig) -> None:
    engine = rig.engine("""
        rules:
          - id: echo
            trigger: {uplink: {app_token: plant, port: 1}}
            condition: {"==": [{"%": [{var: decoded.counter}, 5]}, 0]}
            actions:
              - unicast: {payload: [{type: u8, value: 0x42}, {type: u8, expr: {var: decoded.counter}}], port: 9}
    """)
    rig.simulator.set_faults(Faults(lost_response_rate=1.0))
    await engine.poll("plant")
    fired = engine.ledger.conn.execute("SELECT count(*) FROM firings").fetchone()[0]
    assert fired > 0
    await engine.dispatch()
    in_flight = engine.ledger.conn.execute("SELECT count(*) FROM outbox WHERE status = 'in_flight'").fetchone()[0]
    assert in_flight == fired                       # every answer was lost: all in doubt
    rig.simulator.set_faults(Faults())
    rig.clock.advance(10)                           # past reconcile_after
    await engine.dispatch()
    statuses = dict(engine.ledger.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
    assert statuses == {"done": fired}
    commands = rig.simulator.commands()
    assert len(commands) == fired                   # issued once each, never resent
    reconciled = engine.ledger.conn.execute("SELECT count(*) FROM sends WHERE reconciled = 1").fetchone()[0]
    assert reconciled == fired
    ids = {row[0] for row in engine.ledger.conn.execute("SELECT issuance_id FROM sends")}
    assert ids == {c.issuance_id for c in commands}
    await engine.conductor.aclose()
    engine.ledger.close()


async def test_an_intent_that_never_left_is_sent_after_a_crash(rig: Rig) -> None:
    engine = rig.engine("""
        rules:
          - id: once
            trigger: {uplink: {app_token: plant, port: 1}}
            condition: {"==": [{var: uplink.module}, {var: uplink.module}]}
            throttle: {max: 1, per: 1d}
            actions:
              - multicast: {app_token: plant, port: 3, payload: "CAFE"}
    """)
    await engine.poll("plant")
    # simulate a crash right after the intent was marked in flight, before it was sent
    engine.ledger.conn.execute("UPDATE outbox SET status = 'in_flight'")
    rig.clock.advance(10)
    await engine.dispatch()
    assert [c.payload_hex for c in rig.simulator.commands()] == ["CAFE"]
    assert engine.ledger.conn.execute("SELECT status FROM outbox").fetchone()[0] == "done"
    await engine.conductor.aclose()
    engine.ledger.close()


def test_retention_keeps_pending_work(rig: Rig) -> None:
    from rules_engine.config import RetentionConfig
    from rules_engine.ledger.retention import prune

    engine = rig.engine(HEARTBEAT)
    conn = engine.ledger.conn
    conn.execute("INSERT INTO uplinks (uuid, app_token, module, port, ts, payload_hex, received_at) "
                 "VALUES ('old', ?, 'm', 1, 0, '', 0)", (TOKEN,))
    conn.execute("INSERT INTO firings (id, rule_id, event_id, event_kind, ts, evaluation, created_at) VALUES (1, 'r', 'e1', 'uplink', 0, '{}', 0)")
    conn.execute("INSERT INTO firings (id, rule_id, event_id, event_kind, ts, evaluation, created_at) VALUES (2, 'r', 'e2', 'uplink', 0, '{}', 0)")
    conn.execute("INSERT INTO outbox VALUES ('k1', 1, 'r', 'e1', 0, 'log', '{}', 's', 'done', 1, 0, NULL, NULL, 0, 0)")
    conn.execute("INSERT INTO outbox VALUES ('k2', 2, 'r', 'e2', 0, 'log', '{}', 's', 'pending', 0, 0, NULL, NULL, 0, 0)")
    pruned = prune(engine.ledger, RetentionConfig(uplinks=timedelta(days=1), firings=timedelta(days=1)), now=10 * 86400)
    assert (pruned.uplinks, pruned.firings, pruned.intents) == (1, 1, 1)
    assert [row[0] for row in conn.execute("SELECT key FROM outbox")] == ["k2"]
    engine.ledger.close()
