"""Application-level acknowledgement end to end, in process: 200 devices behind 4 gateways,
mixed downlink modes, 10% downlink loss, devices answering with ack uplinks (the simulator)."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from rules_engine.clock import ManualClock
from rules_engine.conductor import ConductorClient, ConductorURLs, RetryPolicy
from rules_engine.config import EngineConfig
from rules_engine.engine import Engine
from rules_engine.ledger.store import Ledger
from rules_engine.pipeline.dispatch import DispatchPolicy
from rules_engine.rules.loader import load_rules
from rules_engine.simulator import DownlinkMode, FleetConfig, Simulator, SimulatorServer
from rules_engine.toolkit import Toolkit

from .conftest import DECODER, TOKEN

ACK = {"type": "struct", "fields": [{"name": "marker", "type": "u8"}, {"name": "seq", "type": "u32_be"}]}


def make_engine(server: SimulatorServer, clock: ManualClock, tmp: Path, rules: str) -> Engine:
    config = EngineConfig.model_validate({
        "app_tokens": {"plant": {"token": TOKEN, "decoder": "env", "ports": {7: "ack"}, "poll_interval": "5s", "overlap": "30s",
                            "sweep_interval": "10s"}},
        "decoders": {"env": DECODER, "ack": ACK},
    })
    toolkit = Toolkit.create(config, entry_points=False)
    (tmp / "rules.yaml").write_text(textwrap.dedent(rules))
    ruleset = load_rules([tmp / "rules.yaml"], toolkit)
    assert not ruleset.errors, ruleset.errors
    client = ConductorClient(*server.auth, urls=ConductorURLs.single_origin(server.base_url), clock=clock, rng=random.Random(1),
                             retry=RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05))
    return Engine(config, toolkit, ruleset, Ledger.open_writer(tmp / "ledger.db"), client, clock=clock,
                  dispatch_policy=DispatchPolicy(base_delay=1, max_delay=5, reconcile_after=5))


async def step(engine: Engine, clock: ManualClock, seconds: float = 5) -> None:
    clock.advance(seconds)
    await engine.poll("plant")
    engine.check_sends()
    await engine.dispatch()


@pytest.fixture
def fleet_server():
    clock = ManualClock()
    fleet = FleetConfig.generate(
        devices=200, gateways=4, seed=21, app_token_hashes=[TOKEN], uplink_interval_s=60, max_gateways_per_module=1,
        downlink_modes={DownlinkMode.ALWAYS: 0.7, DownlinkMode.MAILBOX: 0.2, DownlinkMode.OFF: 0.1},
        downlinks={"loss_probability": 0.1},
    )
    simulator = Simulator(fleet, clock=clock)
    simulator.advance(180)
    with SimulatorServer(simulator) as server:
        yield clock, simulator, server


def tracked(engine: Engine) -> dict:
    row = engine.ledger.conn.execute("SELECT id, status, round, seq FROM tracked_sends ORDER BY id").fetchall()
    return row


async def test_gateway_multicast_acked_set_equals_who_received_it(fleet_server, tmp_path: Path) -> None:
    clock, simulator, server = fleet_server
    gateway = simulator.config.gateways[0].address
    engine = make_engine(server, clock, tmp_path, f"""
        rules:
          - id: sync
            trigger: {{schedule: {{every: 1h}}}}
            actions:
              - multicast:
                  app_token: plant
                  gateway: "{gateway}"
                  port: 20
                  payload: [{{type: u32_be, expr: {{var: send.seq}}}}, {{type: u8, value: 1}}]
                  ack: {{deadline: 30s, retry: {{rounds: 0}}}}
    """)
    try:
        await engine.poll("plant")
        assert engine.fire_schedule("sync", clock.now()) == 1
        await engine.dispatch()
        for _ in range(16):
            await step(engine, clock)
        (send_id, status, _round, seq), = tracked(engine)
        targets = dict(engine.ledger.conn.execute("SELECT module, status FROM send_targets WHERE send_id = ?", (send_id,)).fetchall())
        behind = {m.address for m in simulator.config.modules if m.gateways == [gateway]}
        assert set(targets) == behind                           # exactly the devices behind that gateway
        command, = simulator.commands()
        received = {d.module for d in command.deliveries}
        acked = {m for m, s in targets.items() if s == "acked"}
        assert acked == received                                # no false ack, none missed
        assert received and len(received) < len(behind)         # loss and modes make it partial
        assert status == "partial"
        assert {m for m, s in targets.items() if s == "unreachable"} == behind - received
    finally:
        await engine.conductor.aclose()
        engine.ledger.close()


async def test_unicast_fallback_reaches_every_reachable_device_within_budget(fleet_server, tmp_path: Path) -> None:
    clock, simulator, server = fleet_server
    engine = make_engine(server, clock, tmp_path, """
        rules:
          - id: config-push
            trigger: {schedule: {every: 1h}}
            actions:
              - multicast:
                  app_token: plant
                  port: 21
                  payload: [{type: u32_be, expr: {var: send.seq}}, {type: u8, value: 7}]
                  ack:
                    deadline: 30s
                    retry: {rounds: 3, multicast_above: 0.9, gateway_rate: 120/min, deadline: 150s}
    """)
    try:
        await engine.poll("plant")
        engine.fire_schedule("config-push", clock.now())
        await engine.dispatch()
        for _ in range(150):
            await step(engine, clock)
            if tracked(engine)[0][1] != "open":
                break
        (send_id, status, rounds, _seq), = tracked(engine)
        targets = {m: (s, r) for m, s, r in engine.ledger.conn.execute(
            "SELECT module, status, acked_round FROM send_targets WHERE send_id = ?", (send_id,))}
        modes = {m.address: m.downlink_mode for m in simulator.config.modules}
        off = {m for m in targets if modes[m] == DownlinkMode.OFF}
        reachable = set(targets) - off
        assert all(targets[m][0] == "acked" for m in reachable), {m: targets[m] for m in reachable if targets[m][0] != "acked"}
        assert all(targets[m][0] == "unreachable" for m in off)
        assert any(targets[m][1] > 0 for m in reachable)        # some needed a retry (loss, mailbox)
        assert status == "partial" and rounds == 3
        unicasts = [c for c in simulator.commands() if c.kind == "unicast"]
        per_off_device = {m: sum(1 for c in unicasts if c.targets == [m]) for m in off}
        assert off and all(count == 3 for count in per_off_device.values()), per_off_device   # budget respected
        outcome = engine.ledger.conn.execute("SELECT count(*) FROM firings WHERE event_kind = 'send'").fetchone()[0]
        assert outcome == 0  # no send-trigger rule here
    finally:
        await engine.conductor.aclose()
        engine.ledger.close()


async def test_duplicate_late_unexpected_acks_and_a_restart_change_nothing(tmp_path: Path) -> None:
    from rules_engine.simulator import Faults

    clock = ManualClock()
    fleet = FleetConfig.generate(
        devices=120, gateways=3, seed=5, app_token_hashes=[TOKEN], uplink_interval_s=60, max_gateways_per_module=2,
        downlink_modes={DownlinkMode.ALWAYS: 0.8, DownlinkMode.OFF: 0.2}, downlinks={"loss_probability": 0.2},
    )
    simulator = Simulator(fleet, clock=clock)
    simulator.advance(180)
    gateway = fleet.gateways[1].address
    rules = f"""
        rules:
          - id: routed
            trigger: {{schedule: {{every: 1h}}}}
            actions:
              - multicast:
                  app_token: plant
                  gateway: "{gateway}"
                  port: 22
                  payload: [{{type: u32_be, expr: {{var: send.seq}}}}]
                  ack: {{deadline: 20s, retry: {{rounds: 2, multicast_above: 0.0, deadline: 20s}}}}
    """
    with SimulatorServer(simulator) as server:
        simulator.set_faults(Faults(late_ingest_rate=0.5, late_ingest_s=15))   # acks show up late and out of order
        engine = make_engine(server, clock, tmp_path, rules)
        await engine.poll("plant")
        engine.fire_schedule("routed", clock.now())
        await engine.dispatch()
        expected = {m for (m,) in engine.ledger.conn.execute("SELECT module FROM send_targets")}
        for _ in range(4):
            await step(engine, clock)
        await engine.conductor.aclose()
        engine.ledger.close()                       # the daemon goes away in the middle of the send...
        clock.advance(20)
        engine = make_engine(server, clock, tmp_path, rules)   # ...and a new one picks it up from the ledger
        try:
            for _ in range(60):
                await step(engine, clock)
                if tracked(engine)[0][1] != "open":
                    break
            (send_id, status, rounds, seq), = tracked(engine)
            commands = simulator.commands()
            assert [c.kind for c in commands] == ["gateway_multicast"] * 3    # first send + two re-multicasts, none twice
            received = {d.module for c in commands for d in c.deliveries}
            unexpected_replies = {r.module for c in commands for r in c.ack_replies} - expected
            assert unexpected_replies, "no device outside the expected set answered; the test proves nothing"
            targets = dict(engine.ledger.conn.execute("SELECT module, status FROM send_targets WHERE send_id = ?", (send_id,)))
            assert set(targets) == expected                                   # unexpected acks added nobody
            assert {m for m, s in targets.items() if s == "acked"} == received & expected
            duplicates = sum(1 for c in commands for r in c.ack_replies if r.module in received & expected) - len(received & expected)
            assert duplicates > 0, "no device acked twice; the test proves nothing"
            acked_rows = engine.ledger.conn.execute("SELECT count(*) FROM send_targets WHERE status = 'acked'").fetchone()[0]
            assert acked_rows == len(received & expected)                     # each device counted once
            assert status == ("complete" if expected <= received else "partial") and rounds == 2
        finally:
            await engine.conductor.aclose()
            engine.ledger.close()
