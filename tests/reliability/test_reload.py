"""SIGHUP reloads: a broken rule file is rejected and the running rules stay (log, /healthz,
/metrics say so); a good one replaces them (issue 5, item 6)."""

from __future__ import annotations

import signal

import pytest

from .conftest import Rig, report, wait_until

OLD_RULES = """
rules:
  - id: old-rule
    trigger: {uplink: {app_token: plant, port: 1}}
    actions: [log: {message: "old-rule saw {uplink.uuid}"}]
"""

BROKEN_RULES = """
rules:
  - id: new-rule
    trigger: {uplink: {app_token: plant, port: 1}}
    condition: {frobnicate: [{var: decoded.counter}, 3]}
    actions: [log: {message: "new-rule saw {uplink.uuid}"}]
"""

NEW_RULES = """
rules:
  - id: new-rule
    trigger: {uplink: {app_token: plant, port: 1}}
    condition: {"==": [{"%": [{var: decoded.counter}, 2]}, 0]}
    actions: [log: {message: "new-rule saw {uplink.uuid}"}]
"""


@pytest.mark.slow
def test_sighup_rejects_a_broken_rule_file_then_accepts_a_good_one(make_rig) -> None:
    rig: Rig = make_rig(devices=8, gateways=2, seed=16, uplink_interval_s=2.0, history_s=10.0)
    rig.write_rules(OLD_RULES)
    rig.write_config(poll_interval="1s", overlap="30s")
    daemon = rig.start_daemon()
    ledger = rig.ledger

    def firings(rule: str, after: float = 0.0) -> int:
        return ledger.scalar("SELECT count(*) FROM firings WHERE rule_id = ? AND created_at > ?", (rule, after))

    def state() -> dict[str, object]:
        return {"firings": ledger.query("SELECT rule_id, count(*), max(created_at) FROM firings GROUP BY 1"),
                "health": daemon.healthz(), "log": daemon.tail(5)}

    wait_until(lambda: firings("old-rule") > 0, 20, "the first rules to fire", state)
    status, health = daemon.healthz()
    assert status == 200 and health["rules"]["last_reload_ok"] is True, health

    # 1. a broken file: rejected, the old rules keep running, and everything says so
    rig.write_rules(BROKEN_RULES)
    daemon.signal(signal.SIGHUP)
    rejected = wait_until(lambda: daemon.messages("rule reload rejected; the previous rules keep running"), 20,
                          "the rejection in the log", state)
    problem = rejected[0]["problem"]
    report(f"rejected: {problem}")
    assert str(rig.rules_path) in problem and "frobnicate" in problem, problem
    assert rejected[0]["level"] == "error"
    rejected_at = ledger.scalar("SELECT max(created_at) FROM firings")
    status, health = daemon.healthz()
    assert status == 503 and health["status"] == "degraded", health
    assert health["rules"]["last_reload_ok"] is False and "frobnicate" in health["rules"]["last_reload_error"], health
    assert health["rules"]["loaded"] == 1 and health["app_tokens"]["plant"]["healthy"] is True, health
    metrics = daemon.metrics()
    assert metrics["rules_engine_rule_reload_errors_total"] == 1.0, metrics
    assert metrics["rules_engine_rules_last_reload_ok"] == 0.0
    assert metrics["rules_engine_rules_loaded"] == 1.0
    wait_until(lambda: firings("old-rule", rejected_at) >= 3, 20, "the old rule to keep firing after the rejection", state)
    assert firings("new-rule") == 0

    # 2. a good file: the new rule replaces the old one, health is back to ok
    rig.write_rules(NEW_RULES)
    daemon.signal(signal.SIGHUP)
    reloaded = wait_until(lambda: daemon.messages("rules reloaded"), 20, "the reload in the log", state)
    assert reloaded[0]["rules"] == 1
    wait_until(lambda: firings("new-rule") >= 2, 20, "the new rule to fire", state)
    first_new = ledger.scalar("SELECT min(created_at) FROM firings WHERE rule_id = 'new-rule'")
    assert firings("old-rule", first_new - 1e-6) == 0, "the old rule fired after the new rules took over"
    # the new rule fires exactly on the uplinks its condition selects
    fired = ledger.query("SELECT u.payload_hex FROM firings f JOIN uplinks u ON u.uuid = f.event_id WHERE f.rule_id = 'new-rule'")
    assert all(bytes.fromhex(p)[7] % 2 == 0 for (p,) in fired), fired
    status, health = daemon.healthz()
    assert status == 200 and health["status"] == "ok", health
    assert health["rules"]["last_reload_ok"] is True and health["rules"]["last_reload_error"] is None, health
    metrics = daemon.metrics()
    assert metrics["rules_engine_rule_reload_errors_total"] == 1.0
    assert metrics["rules_engine_rules_last_reload_ok"] == 1.0
    assert daemon.stop() == 0
    report(f"reload: old-rule fired {firings('old-rule')} times, new-rule {firings('new-rule')} times")
