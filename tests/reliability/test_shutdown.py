"""SIGTERM and SIGINT stop the daemon cleanly and quickly, finishing the sends in progress; a
second daemon on a ledger in use is refused (issue 5, item 5)."""

from __future__ import annotations

import json
import signal
import socket
import time

import pytest

from rules_engine.simulator import Faults

from .conftest import ECHO_RULES, Rig, report, wait_until

STOP_WITHIN_S = 5.0


def _in_flight(rig: Rig) -> int:
    return rig.ledger.scalar("SELECT count(*) FROM outbox WHERE status = 'in_flight'")


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_finishes_the_sends_in_progress_and_exits_0(make_rig, signum: int) -> None:
    rig: Rig = make_rig(devices=12, gateways=2, seed=13, uplink_interval_s=3.0, history_s=10.0)
    rig.write_rules(ECHO_RULES)
    rig.write_config(poll_interval="1s", overlap="30s")
    # each issueCommand takes 0.2 s, so the signal can be sent while sends are in flight (a short
    # history keeps the backlog small: test_sigterm_with_a_send_backlog_stops_within_a_few_seconds has a large one)
    rig.sim.set_faults(Faults(latency_s=0.2, paths=["/clientEdge/issueCommand"]))
    daemon = rig.start_daemon()
    wait_until(lambda: _in_flight(rig) > 0, 20, "a send in flight", lambda: rig.ledger.outbox_status(), interval=0.02)
    in_flight = _in_flight(rig)
    signalled = time.monotonic()
    daemon.signal(signum)
    code = daemon.wait_exit(STOP_WITHIN_S + 10)
    took = time.monotonic() - signalled
    report(f"{signal.Signals(signum).name} with {in_flight} sends in flight: exit {code} after {took:.2f}s; "
           f"outbox {rig.ledger.outbox_status()}")
    assert code == 0, daemon.tail()
    assert took < STOP_WITHIN_S, f"took {took:.2f}s to stop"
    messages = [r["message"] for r in daemon.records()]
    assert "stopping: finishing the current cycle" in messages and messages[-1] == "stopped", messages[-5:]
    # nothing half-done: no send left in doubt, and each command issued is recorded as a send
    assert _in_flight(rig) == 0, rig.ledger.outbox_status()
    issued = {c.issuance_id for c in rig.sim.commands()}
    recorded = {row[0] for row in rig.ledger.query("SELECT issuance_id FROM sends")}
    assert issued and issued == recorded, (len(issued), len(recorded))
    # the lock is released: the next daemon starts on the same ledger
    again = rig.start_daemon()
    assert again.stop() == 0


@pytest.mark.slow
def test_a_second_daemon_on_the_same_ledger_is_refused(make_rig) -> None:
    rig: Rig = make_rig(devices=4, gateways=1, seed=14, uplink_interval_s=5.0)
    rig.write_rules(ECHO_RULES)
    rig.write_config(poll_interval="1s", overlap="30s")
    first = rig.start_daemon()
    second = rig.spawn()
    code = second.wait_exit(30)
    output = second.text()
    report(f"second daemon: exit {code}: {output.strip().splitlines()[-1] if output.strip() else ''}")
    assert code != 0
    assert "already in use by another rules-engine process" in output, output
    assert f"(pid {first.pid})" in output, output
    assert "rules-engine running" not in output
    # the first one is unaffected
    assert first.alive()
    uplinks = rig.ledger.scalar("SELECT count(*) FROM uplinks")
    wait_until(lambda: rig.ledger.scalar("SELECT count(*) FROM uplinks") > uplinks, 20, "the first daemon to keep polling")
    status, health = first.healthz()
    assert status == 200, health
    assert first.stop() == 0


@pytest.mark.slow
def test_an_admin_port_in_use_is_one_clear_error_and_the_ledger_is_left_usable(make_rig) -> None:
    rig: Rig = make_rig(devices=4, gateways=1, seed=15, uplink_interval_s=5.0)
    rig.write_rules(ECHO_RULES)
    config_path = rig.write_config(poll_interval="1s", overlap="30s")
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        config = json.loads(config_path.read_text())
        config["admin"]["port"] = port
        config_path.write_text(json.dumps(config))
        daemon = rig.spawn()
        code = daemon.wait_exit(30)
        output = daemon.text()
    report(f"admin port in use: exit {code}: {output.strip().splitlines()[-1] if output.strip() else ''}")
    assert code != 0
    assert f"admin HTTP cannot listen on 127.0.0.1:{port}" in output and "admin.port" in output, output
    assert "Traceback" not in output and "rules-engine running" not in output, output
    config["admin"]["port"] = 0
    config_path.write_text(json.dumps(config))
    assert rig.start_daemon().stop() == 0  # nothing left behind: the lock released, the ledger fine


@pytest.mark.slow
def test_a_rule_set_without_rules_is_refused_at_start_and_at_reload(make_rig) -> None:
    rig: Rig = make_rig(devices=4, gateways=1, seed=16, uplink_interval_s=5.0)
    rig.write_rules("rules: []\n")
    rig.write_config(poll_interval="1s", overlap="30s")
    daemon = rig.spawn()
    code = daemon.wait_exit(30)
    output = daemon.text()
    assert code != 0 and "no rule loaded" in output and "there is no rule in" in output, output
    assert "Traceback" not in output and "rules-engine running" not in output, output
    rig.write_rules(ECHO_RULES)
    daemon = rig.start_daemon()
    rig.write_rules("rules: []\n")
    daemon.signal(signal.SIGHUP)
    wait_until(lambda: any(r.get("message") == "rule reload rejected; the previous rules keep running" for r in daemon.records()),
               20, "the empty rule set to be rejected")
    status, health = daemon.healthz()
    assert "there is no rule in" in json.dumps(health), health
    assert daemon.stop() == 0


@pytest.mark.slow
@pytest.mark.parametrize("missing", ["app_tokens", "username"])
def test_a_config_the_daemon_cannot_run_is_refused_at_start(make_rig, missing: str) -> None:
    rig: Rig = make_rig(devices=2, gateways=1, seed=17, uplink_interval_s=5.0)
    rig.write_rules(ECHO_RULES)
    config_path = rig.write_config()
    config = json.loads(config_path.read_text())
    if missing == "app_tokens":
        del config["app_tokens"]
    else:
        del config["conductor"]["username"]
    config_path.write_text(json.dumps(config))
    daemon = rig.spawn()
    code = daemon.wait_exit(30)
    output = daemon.text()
    expected = "lists no AppToken under 'app_tokens:'" if missing == "app_tokens" else "has no 'conductor.username'"
    assert code != 0 and expected in output, output
    assert "Traceback" not in output and "rules-engine running" not in output, output


def _sent_after_stop(records: list[dict]) -> int:
    messages = [r.get("message") for r in records]
    if "stopping: finishing the current cycle" not in messages:
        return 0
    return messages[messages.index("stopping: finishing the current cycle"):].count("action sent")


@pytest.mark.slow
def test_sigterm_with_a_send_backlog_stops_within_a_few_seconds(make_rig) -> None:
    """With ~180 intents due (45 s of history, a firing on every third uplink, 2 downlinks
    each) and a Conductor answering issueCommand in 0.5 s, SIGTERM should finish the sends in
    flight and leave the rest pending in the outbox (they are safe there), not send them all first."""
    rig: Rig = make_rig(devices=12, gateways=2, seed=15, uplink_interval_s=3.0, history_s=45.0)
    rig.write_rules(ECHO_RULES)
    rig.write_config(poll_interval="1s", overlap="30s")
    rig.sim.set_faults(Faults(latency_s=0.5, paths=["/clientEdge/issueCommand"]))
    daemon = rig.start_daemon()
    wait_until(lambda: _in_flight(rig) > 0, 20, "a send in flight", lambda: rig.ledger.outbox_status(), interval=0.02)
    backlog = rig.ledger.unsettled()
    signalled = time.monotonic()
    daemon.signal(signal.SIGTERM)
    code = daemon.wait_exit(120)
    took = time.monotonic() - signalled
    sent_after = _sent_after_stop(daemon.records())
    report(f"SIGTERM with {backlog} intents unsettled: exit {code} after {took:.2f}s, {sent_after} sends after the signal")
    assert code == 0, daemon.tail()
    assert _in_flight(rig) == 0, rig.ledger.outbox_status()
    assert took < STOP_WITHIN_S, f"took {took:.1f}s to stop: it sent {sent_after} intents after SIGTERM (backlog {backlog})"
