"""Issue 6: kill -9 of the daemon in the middle of tracked sends changes nothing. Every
acknowledgement is counted once, the acked set of each send equals the simulator's ground truth
of who received it (and was expected), and every downlink of every round is issued exactly once."""

from __future__ import annotations

import random
import signal
import time
from collections import Counter

import pytest

from rules_engine.simulator import DownlinkMode

from .conftest import Rig, report, wait_until

TRACKED_RULES = """
rules:
  - id: tracked-sync
    trigger: {schedule: {every: 4s}}
    actions:
      - multicast:
          app_token: plant
          port: 40
          payload: [{type: u32_be, expr: {var: send.seq}}, {type: u8, value: 0x5A}]
          ack:
            deadline: 4s
            retry: {rounds: 2, multicast_above: 0.6, gateway_rate: 600/min, deadline: 6s}
"""

QUIET_RULES = """
rules:
  - {id: idle, trigger: {uplink: {port: 200}}, actions: [log: {message: idle}]}
"""


@pytest.mark.slow
def test_kill9_during_tracked_sends(make_rig) -> None:
    rig: Rig = make_rig(devices=24, gateways=3, seed=31, uplink_interval_s=3.0, history_s=30.0,
                        downlink_modes={DownlinkMode.ALWAYS: 0.6, DownlinkMode.MAILBOX: 0.25, DownlinkMode.OFF: 0.15})
    rig.write_rules(TRACKED_RULES)
    rig.write_config(poll_interval="1s", overlap="5s")
    chance = random.Random(6)
    kills = 0
    daemon = rig.start_daemon()
    started = time.monotonic()
    while time.monotonic() - started < 30:
        time.sleep(chance.uniform(1.0, 3.5))
        daemon.signal(signal.SIGKILL)
        assert daemon.wait_exit(10) == -9
        kills += 1
        daemon = rig.start_daemon()
    rig.write_rules(QUIET_RULES)          # no new sends from here on; the open ones carry on
    daemon.signal(signal.SIGHUP)
    wait_until(lambda: rig.ledger.scalar("SELECT count(*) FROM tracked_sends WHERE status IN ('pending', 'open')") == 0
               and rig.ledger.unsettled() == 0, 120, "every tracked send to finish",
               lambda: (rig.ledger.query("SELECT id, status, round FROM tracked_sends WHERE status IN ('pending', 'open')"),
                        rig.ledger.outbox_status()))
    assert daemon.stop() == 0

    ledger = rig.ledger
    sends = ledger.query("SELECT id, seq, status, round, intent_key FROM tracked_sends ORDER BY id")
    assert len(sends) >= 4, sends
    commands = rig.sim.commands()
    by_seq: dict[int, list] = {}
    for command in commands:
        by_seq.setdefault(int(command.payload_hex[:8], 16), []).append(command)
    issued_ids = {row[0] for row in ledger.query("SELECT issuance_id FROM sends")}
    assert issued_ids == {c.issuance_id for c in commands}, "a command the ledger does not know, or a send never issued"
    acks = Counter()
    for send_id, seq, status, rounds, key in sends:
        intents = ledger.query("SELECT key, action, params FROM outbox WHERE key = ? OR key LIKE ?", (key, key + "|round%"))
        mine = by_seq.get(seq, [])
        assert len(mine) == len(intents), f"send {send_id}: {len(intents)} intents but {len(mine)} commands in Conductor"
        targets = dict(ledger.query("SELECT module, status FROM send_targets WHERE send_id = ?", (send_id,)))
        received = {d.module for c in mine for d in c.deliveries}
        acked = {m for m, s in targets.items() if s == "acked"}
        assert acked == received & set(targets), f"send {send_id}: acked {sorted(acked)} vs received {sorted(received)}"
        assert status in ("complete", "partial", "expired")
        assert status == ("complete" if acked == set(targets) else "partial" if acked else "expired")
        for command in mine:
            acks.update(r.module for r in command.ack_replies)
    duplicated_acks = sum(n - 1 for n in acks.values() if n > 1)
    report(f"tracked sends under kill -9: {kills} kills, {len(sends)} sends ({Counter(s[2] for s in sends)}), "
           f"{len(commands)} commands, {duplicated_acks} duplicate ack replies absorbed")
    assert kills >= 8
