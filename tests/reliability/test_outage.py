"""A Conductor outage: every request fails for a while (issue 5, item 3).

During it /healthz answers 503 with the AppToken unhealthy, ``consecutive_errors`` > 0 and a
``last_error``, and ``rules_engine_poll_errors_total`` keeps increasing; after it the daemon
catches up, health returns to 200, and not one uplink is lost or duplicated, nor any send.
The outage lasts 25 s of real time (the mechanics, not the minutes, are what is checked; the
per-token backoff's growth is reported).
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from rules_engine.simulator import Faults

from .conftest import ECHO_RULES, DaemonProcess, Rig, freeze_polls_and_drain, report, verify_exactly_once, wait_until

OUTAGE_S = 25.0
POLL_ERRORS = 'rules_engine_poll_errors_total{app_token="plant"}'


def _health(daemon: DaemonProcess) -> tuple[int, dict[str, Any]]:
    status, body = daemon.healthz()
    return status, {"status": body["status"], **body["app_tokens"]["plant"]}


@pytest.mark.slow
def test_outage_is_reported_then_caught_up_without_loss(make_rig) -> None:
    rig: Rig = make_rig(devices=12, gateways=2, seed=9, uplink_interval_s=3.0, history_s=20.0)
    rig.write_rules(ECHO_RULES)
    rig.write_config(poll_interval="1s", overlap="30s", timeout="1s")
    daemon = rig.start_daemon()
    wait_until(lambda: _health(daemon)[0] == 200, 20, "the daemon to be healthy before the outage", lambda: _health(daemon))
    assert daemon.metrics().get(POLL_ERRORS, 0.0) == 0.0

    rig.sim.set_faults(Faults(error_rate=1.0))  # every Conductor path answers 503
    outage_started = time.monotonic()
    status, health = wait_until(lambda: (lambda s, h: (s, h) if s == 503 else None)(*_health(daemon)), 25,
                                "/healthz to report the outage", lambda: _health(daemon))
    report(f"outage visible in /healthz after {time.monotonic() - outage_started:.1f}s: {health}")
    assert health["status"] == "degraded" and health["healthy"] is False, health
    assert health["consecutive_errors"] >= 1 and "503" in (health["last_error"] or ""), health
    first_errors = daemon.metrics()[POLL_ERRORS]
    assert first_errors >= 1
    wait_until(lambda: daemon.metrics()[POLL_ERRORS] > first_errors, 25, "rules_engine_poll_errors_total to keep increasing",
               lambda: daemon.metrics().get(POLL_ERRORS))
    time.sleep(max(0.0, outage_started + OUTAGE_S - time.monotonic()))  # the rest of the outage (the scenario's length)
    status, health = _health(daemon)
    errors_during = daemon.metrics()[POLL_ERRORS]
    assert status == 503 and health["consecutive_errors"] >= 2, health
    ledger_errors, ledger_error = rig.ledger.query("SELECT consecutive_errors, last_error FROM cursors")[0]
    assert ledger_errors >= 2 and "503" in ledger_error, (ledger_errors, ledger_error)  # persisted for the next start
    report(f"end of the {OUTAGE_S:g}s outage: {errors_during:g} failed polls, /healthz {status} {health}")

    rig.sim.set_faults(Faults())
    outage_over = time.monotonic()
    cutoff = rig.sim.now() - timedelta(seconds=1)
    wait_until(lambda: _health(daemon)[0] == 200, 60, "/healthz to return to 200 after the outage", lambda: _health(daemon))
    recovered = time.monotonic() - outage_over
    rig.wait_caught_up(cutoff, 60)
    caught_up = time.monotonic() - outage_over
    status, health = _health(daemon)
    report(f"recovered: /healthz 200 {recovered:.1f}s and every uplink of the outage in the ledger {caught_up:.1f}s "
           f"after it ended; {health}")
    assert health["consecutive_errors"] == 0 and health["last_error"] is None, health

    freeze_polls_and_drain(rig, daemon, cutoff, catch_up_timeout=30, drain_timeout=60)
    counts = verify_exactly_once(rig, cutoff)
    report(f"outage run verified against ground truth: {counts}")


LOG_EVERY_THIRD = """
rules:
  - id: every-third
    trigger: {uplink: {app_token: plant, port: 1}}
    condition:
      and:
        - "!": {missing: [decoded.counter]}
        - "==": [{"%": [{var: decoded.counter}, 3]}, 0]
    actions:
      - log: {message: "every-third fired for {uplink.uuid}"}
"""

GAP_S = 3 * 3600.0


@pytest.mark.slow
def test_a_three_hour_gap_is_caught_up_in_committed_chunks(make_rig) -> None:
    """The ledger's cursor is three hours old (as after a long outage: the cursor never moves
    while polls fail): the catch-up asks Conductor in one-hour chunks, commits each one (the
    cursor steps forward an hour at a time), survives a SIGKILL in the middle, and ends with
    every uplink of the three hours in the ledger once and every firing once."""
    rig: Rig = make_rig(devices=6, gateways=2, seed=10, uplink_interval_s=60.0, history_s=GAP_S + 900)
    rig.write_rules(LOG_EVERY_THIRD)
    rig.write_config(poll_interval="1s", overlap="30s")
    first = rig.start_daemon()
    wait_until(lambda: rig.ledger.scalar("SELECT count(*) FROM cursors") == 1, 20, "a first committed poll")
    assert first.stop() == 0
    # Rewind the stopped daemon's cursor by three hours. This is the only write the tests make to a
    # ledger, done while no daemon runs: a Conductor outage that long cannot be waited out.
    (old_cursor,) = rig.ledger.query("SELECT cursor_ts FROM cursors")[0]
    rewound = old_cursor - GAP_S
    with sqlite3.connect(rig.ledger_path) as conn:
        conn.execute("UPDATE cursors SET cursor_ts = ?", (rewound,))
    conn.close()
    # each uplink query takes 1 s, so every chunk's commit is visible in the ledger for a while
    rig.sim.set_faults(Faults(latency_s=1.0, paths=["/clientEdge/data"]))
    steps: set[float] = set()

    def cursor_step() -> float:
        return round(rig.ledger.scalar("SELECT cursor_ts FROM cursors") - rewound, 1)

    second = rig.start_daemon()
    wait_until(lambda: steps.add(cursor_step()) or any(0 < s < GAP_S - 60 for s in steps), 30,
               "the cursor to advance by a first chunk", lambda: sorted(steps), interval=0.05)
    assert second.kill() == -9  # in the middle of the catch-up
    third = rig.start_daemon()
    wait_until(lambda: steps.add(cursor_step()) or max(steps) > GAP_S, 60, "the catch-up to reach the present",
               lambda: sorted(steps), interval=0.05)
    chunked = sorted(s for s in steps if 0 < s < GAP_S)
    report(f"cursor steps during the catch-up (s after the rewound cursor): {sorted(steps)}")
    # windows start at cursor - overlap and span at most an hour, and each is committed on its own:
    # the cursor never jumps by more than an hour, and it stops at the intermediate hours
    assert len(chunked) >= 2, f"only {chunked} intermediate commits seen: the catch-up was not chunked"
    ordered = sorted(steps | {0.0})
    jumps = [b - a for a, b in zip(ordered, ordered[1:])]
    assert max(jumps) <= 3600.5, f"the cursor jumped by more than one chunk: {ordered}"

    rig.sim.set_faults(Faults())
    cutoff = rig.sim.now() - timedelta(seconds=2)
    rig.wait_caught_up(cutoff, 30, since=datetime.fromtimestamp(rewound - 30, tz=timezone.utc))
    assert third.stop() == 0
    truth = {u.uuid: u for u in rig.truth()}
    stored = rig.ledger.uuids()
    expected = {uuid for uuid, u in truth.items() if rewound - 30 <= u.time.timestamp() and u.time <= cutoff}
    assert expected <= stored and stored <= set(truth), (len(expected - stored), len(stored - set(truth)))
    firing_rows = rig.ledger.query("SELECT event_id FROM firings WHERE rule_id = 'every-third'")
    predicted = {uuid for uuid in stored if truth[uuid].port == 1 and bytes.fromhex(truth[uuid].payload_hex)[7] % 3 == 0}
    assert len(firing_rows) == len({r[0] for r in firing_rows}) and {r[0] for r in firing_rows} == predicted
    report(f"three-hour gap: {len(expected)} uplinks expected, {len(stored)} in the ledger, {len(predicted)} firings")
