"""Conductor misbehaving on every path at once: 5xx, timeouts, 429 with Retry-After, malformed
pages, late ingest within the overlap, and issued commands whose answer is lost. Zero uplinks
lost, zero duplicate sends (issue 5, item 2)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from rules_engine.simulator import Faults

from .conftest import ECHO_RULES, Rig, freeze_polls_and_drain, report, verify_exactly_once

FAULTY_SECONDS = 20.0

FAULTS = Faults(
    error_rate=0.2,  # 503 on any path
    timeout_rate=0.1, timeout_hold_s=2.5,  # held past the daemon's 1 s client timeout, then 504
    rate_limit_rate=0.05, retry_after_s=1,  # 429 + Retry-After
    malformed_rate=0.3,  # truncated JSON, no results, a result without uuid
    late_ingest_rate=0.3, late_ingest_s=10.0,  # visible 10 s after their time (overlap: 30 s)
    lost_response_rate=0.2,  # issueCommand issues the command, then answers 504
)


@pytest.mark.slow
def test_conductor_faults_lose_no_uplink_and_duplicate_no_send(make_rig) -> None:
    rig: Rig = make_rig(devices=12, gateways=2, seed=8, uplink_interval_s=3.0, history_s=20.0)
    rig.write_rules(ECHO_RULES)
    rig.write_config(poll_interval="1s", overlap="30s", timeout="1s")
    daemon = rig.start_daemon()
    rig.sim.set_faults(FAULTS)
    started = time.monotonic()
    time.sleep(FAULTY_SECONDS)  # the daemon works under faults for this long (the scenario, not a synchronisation)
    assert daemon.alive(), daemon.tail()
    # the faults end here (uplinks already generated late stay late); what follows is the recovery
    rig.sim.set_faults(Faults())
    cutoff = rig.sim.now() - timedelta(seconds=1)
    freeze_polls_and_drain(rig, daemon, cutoff, catch_up_timeout=45, drain_timeout=90)
    report(f"faults for {FAULTY_SECONDS:g}s, settled {time.monotonic() - started - FAULTY_SECONDS:.1f}s later")
    counts = verify_exactly_once(rig, cutoff)

    # the faults really happened, and the daemon went through each recovery path
    records = daemon.records()
    retried = [r for r in records if r.get("message") == "conductor request failed, retrying"]
    in_doubt = [r for r in records if r.get("message") == "downlink in doubt; will reconcile"]
    errors = " | ".join(str(r.get("error")) for r in retried + in_doubt)
    late = [u for u in rig.truth(until=cutoff) if (u.visible_from - u.time).total_seconds() >= 5]
    seen = {
        "retried_requests": len(retried),
        "503": errors.count("503"),
        "429": errors.count("429"),
        "timeouts": errors.count("timed out"),
        "malformed": sum(errors.count(s) for s in ("not JSON", "'results' list", "without a 'uuid'")),
        "in_doubt_sends": len(in_doubt),
        "late_uplinks": len(late),
        "failed_polls": len(daemon.messages("poll failed; the cursor stays")),
    }
    report(f"faults seen by the daemon: {seen}")
    report(f"conductor faults run verified against ground truth: {counts}")
    assert seen["503"] and seen["429"] and seen["timeouts"] and seen["malformed"], seen
    assert seen["in_doubt_sends"] >= 1 and counts["reconciled_sends"] >= 1, (seen, counts)
    assert late and all(u.uuid in rig.ledger.uuids() for u in late), "late-ingested uplinks were lost"
