"""Conductor's clock a few seconds off the daemon's (the simulator's ``clock_skew_s`` fault).

Both tests are expected failures that document engine bugs: the engine computes every time it
sends to Conductor (the poll's stop time, the reconciliation window) from its own clock and
assumes Conductor's agrees to within a second.

The second bug also shows without any skew: a daemon restarted within about a second of a
command's issuance (kill -9 at the issuance, then a warm restart in ~1.0 s) resends it; the
kill -9 test hit that now and then until its restart gate (test_kill9._restart_gate). A clock
ten seconds ahead makes the same window wide enough to hit every time.
"""

from __future__ import annotations

from collections import Counter

import pytest

from rules_engine.simulator import Faults

from .conftest import ECHO_RULES, Rig, report, wait_until
from .test_kill9 import KillAtIssuance


@pytest.mark.slow
def test_a_conductor_clock_five_seconds_behind_still_lets_uplinks_in(make_rig) -> None:
    rig: Rig = make_rig(devices=8, gateways=2, seed=17, uplink_interval_s=2.0, history_s=60.0)
    rig.write_rules(ECHO_RULES)
    rig.write_config(poll_interval="1s", overlap="30s")
    rig.sim.set_faults(Faults(clock_skew_s=-5.0))
    daemon = rig.start_daemon()

    def progress() -> tuple[int, int]:
        return rig.ledger.scalar("SELECT count(*) FROM uplinks"), daemon.healthz()[1]["app_tokens"]["plant"]["consecutive_errors"]

    wait_until(lambda: progress()[0] > 0 or progress()[1] >= 3, 30, "uplinks in the ledger, or three failed polls", progress)
    uplinks, errors = progress()
    last_error = daemon.healthz()[1]["app_tokens"]["plant"]["last_error"]
    report(f"Conductor 5 s behind: {uplinks} uplinks, {errors} consecutive poll errors, last: {last_error}")
    assert uplinks > 0, f"no uplink ingested; every poll fails: {last_error}"
    assert daemon.stop() == 0


@pytest.mark.slow
def test_a_conductor_clock_ten_seconds_ahead_does_not_duplicate_a_send_in_doubt_at_a_crash(make_rig) -> None:
    rig: Rig = make_rig(devices=8, gateways=2, seed=18, uplink_interval_s=2.0, history_s=60.0)
    rig.write_rules(ECHO_RULES)
    rig.write_config(poll_interval="1s", overlap="30s")
    rig.sim.set_faults(Faults(clock_skew_s=10.0))
    sniper = KillAtIssuance(rig)
    daemon = rig.start_daemon()
    sniper.arm(daemon.pid)
    assert daemon.wait_exit(30) == -9, "the daemon was not killed at its first issueCommand"
    in_doubt = rig.ledger.scalar("SELECT count(*) FROM outbox WHERE status = 'in_flight'")
    again = rig.start_daemon()  # "running" is logged after the start-up reconciliation
    # in-doubt sends are settled once older than dispatch.reconcile_after (30 s), so that every command
    # Conductor issued is in its history by then
    wait_until(lambda: rig.ledger.unsettled() == 0, 75, "the outbox to settle", lambda: rig.ledger.outbox_status())
    assert again.stop() == 0
    copies = Counter(c.payload_hex for c in rig.sim.commands())
    duplicated = {payload: n for payload, n in copies.items() if n > 1}
    reconciled = rig.ledger.scalar("SELECT count(*) FROM sends WHERE reconciled = 1")
    report(f"Conductor 10 s ahead: {in_doubt} sends in doubt at the kill, {reconciled} reconciled, "
           f"{len(duplicated)} intended sends issued twice, of {len(copies)}")
    assert in_doubt >= 1
    assert not duplicated, f"{len(duplicated)} intended sends were issued more than once"
