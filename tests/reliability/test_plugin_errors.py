"""A plugin decoder that raises on some payloads, and plugin actions that raise (permanently and
transiently): each error is recorded against its uplink or intent, and the daemon keeps running
(issue 5, item 4)."""

from __future__ import annotations

import json
import time

import pytest

from .conftest import Rig, report, wait_until

PLUGIN = '''
"""Test plugin: a decoder that raises on every fourth counter, and an action that always fails."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from rules_engine import ActionFailed, ActionType, DecoderType, Plan, hookimpl


class FlakyDecoder:
    fields = frozenset({"counter"})
    exhaustive = True

    def decode(self, payload: bytes) -> dict[str, Any]:
        if payload[7] % 4 == 0:
            raise RuntimeError(f"cannot read counter {payload[7]}")  # not even a DecodeError
        return {"counter": payload[7]}


class ExplodeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    mode: Literal["permanent", "transient"]


class Explode:
    def __init__(self, options: ExplodeOptions, ctx: Any) -> None:
        self.options = options

    def plan(self, context: dict[str, Any]) -> Plan:
        uuid = context["uplink"]["uuid"]
        return Plan(params={"mode": self.options.mode, "uuid": uuid}, summary=f"explode {self.options.mode} {uuid}")


async def explode(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    if params["mode"] == "permanent":
        raise ActionFailed(f"permanently broken for {params['uuid']}", permanent=True)
    raise RuntimeError(f"transient boom for {params['uuid']}")


@hookimpl
def register_decoders() -> list[DecoderType]:
    return [DecoderType("flaky", "raises on every fourth counter", None, lambda _options: FlakyDecoder())]


@hookimpl
def register_actions() -> list[ActionType]:
    return [ActionType("explode", ExplodeOptions, Explode, execute=explode, description="always fails")]
'''

RULES = """
rules:
  - id: boom-permanent
    trigger: {uplink: {app_token: plant, port: 1}}
    condition: {"==": [{"%": [{var: decoded.counter}, 4]}, 1]}
    actions: [explode: {mode: permanent}]
  - id: boom-transient
    trigger: {uplink: {app_token: plant, port: 1}}
    condition: {"==": [{"%": [{var: decoded.counter}, 4]}, 2]}
    actions: [explode: {mode: transient}]
  - id: saw-decode-error
    trigger: {uplink: {app_token: plant, port: 1}}
    condition: {"!!": {var: uplink.decode_error}}
    actions: [log: {message: "decode error on {uplink.uuid}: {uplink.decode_error}"}]
"""


def _counter(payload_hex: str) -> int:
    return bytes.fromhex(payload_hex)[7]


@pytest.mark.slow
def test_raising_decoder_and_actions_are_recorded_and_the_daemon_keeps_running(make_rig) -> None:
    rig: Rig = make_rig(devices=8, gateways=2, seed=12, uplink_interval_s=2.0, history_s=20.0)
    plugins = rig.tmp / "plugins"
    plugins.mkdir()
    (plugins / "breakers.py").write_text(PLUGIN)
    rig.write_rules(RULES)
    rig.write_config(poll_interval="1s", overlap="30s", plugins_dir=plugins, decoder="flaky", ports={}, decoders={})
    daemon = rig.start_daemon()
    ledger = rig.ledger

    def state() -> dict[str, object]:
        return {"outbox": ledger.query("SELECT rule_id, status, attempts, count(*) FROM outbox GROUP BY 1, 2, 3"),
                "decode_errors": ledger.scalar("SELECT count(*) FROM uplinks WHERE decode_error IS NOT NULL"),
                "alive": daemon.alive()}

    # a transient failure is retried with backoff (2 s, then 4 s...): wait for a second attempt
    wait_until(lambda: ledger.scalar("SELECT count(*) FROM outbox WHERE rule_id = 'boom-transient' AND status = 'pending' "
                                     "AND attempts >= 2"), 30, "a transient action failure to be retried", state)
    assert daemon.alive(), daemon.tail()
    errors_seen_at = time.time()
    uplinks_then = ledger.scalar("SELECT count(*) FROM uplinks")

    # decode errors: recorded on exactly the uplinks whose payload the decoder cannot read
    truth = {u.uuid: u for u in rig.truth()}
    rows = ledger.query("SELECT uuid, port, decoder, decoded, decode_error FROM uplinks")
    data_rows = [r for r in rows if r[1] == 1]
    failed = {r[0]: r for r in data_rows if r[4] is not None}
    should_fail = {r[0] for r in data_rows if _counter(truth[r[0]].payload_hex) % 4 == 0}
    assert failed and set(failed) == should_fail, (len(failed), len(should_fail))
    for uuid, _port, decoder, decoded, error in failed.values():
        assert decoder == "flaky" and decoded is None, (uuid, decoder, decoded)
        assert error == f"flaky: RuntimeError: cannot read counter {_counter(truth[uuid].payload_hex)}", error
    for uuid, _port, _decoder, decoded, error in data_rows:
        if uuid not in failed:
            assert json.loads(decoded) == {"counter": _counter(truth[uuid].payload_hex)}, (uuid, decoded, error)
    # ...and the rules still saw those uplinks (with uplink.decode_error set)
    saw = {r[0] for r in ledger.query("SELECT event_id FROM firings WHERE rule_id = 'saw-decode-error'")}
    assert saw == set(failed), (len(saw), len(failed))

    # a permanent failure: failed once, with its reason, never retried
    permanent = ledger.query("SELECT event_id, status, attempts, last_error FROM outbox WHERE rule_id = 'boom-permanent'")
    assert permanent
    for event_id, status, attempts, last_error in permanent:
        assert status == "failed" and attempts == 1, (event_id, status, attempts)
        assert last_error == f"ActionFailed: permanently broken for {event_id}", last_error
    # a transient failure: back to pending, with the error and a growing backoff
    transient = ledger.query("SELECT event_id, status, attempts, last_error, next_attempt_at - updated_at FROM outbox "
                             "WHERE rule_id = 'boom-transient'")
    assert transient
    for event_id, status, attempts, last_error, wait in transient:
        assert status in ("pending", "in_flight"), (event_id, status)
        assert last_error == f"RuntimeError: transient boom for {event_id}", last_error
        if status == "pending" and attempts >= 1:
            assert wait == pytest.approx(2.0 * 2 ** (attempts - 1), abs=0.01), (attempts, wait)
    assert not [r for r in transient if r[1] == "failed"]
    assert any(status == "pending" and attempts >= 2 for _e, status, attempts, _l, _w in transient), transient

    # the daemon keeps going: it is alive, still polling, healthy, and it counted the errors
    wait_until(lambda: ledger.scalar("SELECT count(*) FROM uplinks WHERE received_at > ?", (errors_seen_at,)) >= 5, 20,
               "new uplinks in the ledger after the errors", state)
    wait_until(lambda: ledger.scalar("SELECT count(*) FROM uplinks WHERE decode_error IS NOT NULL AND received_at > ?",
                                     (errors_seen_at,)) >= 1, 30, "a decode error after the first ones", state)
    status, health = daemon.healthz()
    assert status == 200 and health["status"] == "ok", health
    metrics = daemon.metrics()
    assert metrics['rules_engine_decode_errors_total{decoder="flaky"}'] >= len(failed)
    assert metrics['rules_engine_intents_total{action="explode",outcome="failed"}'] >= len(permanent)
    assert metrics['rules_engine_intents_total{action="explode",outcome="pending"}'] >= 2
    assert daemon.stop() == 0
    report(f"plugin errors: {len(failed)} decode errors on {len(data_rows)} data uplinks, {len(permanent)} permanent "
           f"failures, {len(transient)} transient intents (max attempts "
           f"{max(r[2] for r in transient)}), uplinks {uplinks_then} -> {ledger.scalar('SELECT count(*) FROM uplinks')}")
