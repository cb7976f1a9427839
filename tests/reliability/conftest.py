"""The harness of the reliability tests: the real daemon as a subprocess, the real simulator over
HTTP on the system clock, the real SQLite ledger read read-only, and ground truth to compare with.

Nothing here sleeps as a way to synchronise: every wait is :func:`wait_until` on a condition with
a deadline, and a missed deadline fails with the state that was being waited on.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import httpx
import pytest

from rules_engine.clock import SystemClock
from rules_engine.simulator import DownlinkMode, Faults, FleetConfig, Simulator, SimulatorServer

T = TypeVar("T")

TOKEN = "9a3e51c07b22d4f68e15"
PASSWORD_ENV = "CONDUCTOR_PASSWORD"

#: The simulator's env-v1 payload (docs/simulator.md), port 1.
ENV_DECODER = {
    "type": "struct",
    "fields": [
        {"name": "message_type", "type": "u8"},
        {"name": "temperature", "type": "i16_be", "scale": 0.01},
        {"name": "humidity", "type": "u8"},
        {"name": "battery_mv", "type": "u16_be"},
        {"name": "status", "type": "u8"},
        {"name": "counter", "type": "u8"},
    ],
}

RULE_ID = "every-third"
UNICAST_MARKER, UNICAST_PORT = 0xA1, 9
MULTICAST_MARKER, MULTICAST_PORT = 0xB2, 10

#: Fires on every env-v1 uplink whose counter is a multiple of 3; each intended send carries a
#: marker byte and the triggering uplink's uuid (ASCII), so every command in the simulator names
#: the one firing and action it belongs to.
ECHO_RULES = f"""
rules:
  - id: {RULE_ID}
    trigger: {{uplink: {{app_token: plant, port: 1}}}}
    condition:
      and:
        - "!": {{missing: [decoded.counter]}}
        - "==": [{{"%": [{{var: decoded.counter}}, 3]}}, 0]
    actions:
      - unicast:
          port: {UNICAST_PORT}
          payload:
            - {{name: marker, type: u8, value: {UNICAST_MARKER}}}
            - {{name: uuid, type: ascii, length: 36, expr: {{var: uplink.uuid}}}}
      - multicast:
          gateway: {{var: uplink.gateway}}
          port: {MULTICAST_PORT}
          payload:
            - {{name: marker, type: u8, value: {MULTICAST_MARKER}}}
            - {{name: uuid, type: ascii, length: 36, expr: {{var: uplink.uuid}}}}
      - log: {{message: "every-third fired for {{uplink.uuid}} counter {{decoded.counter}}"}}
"""


def fires(payload_hex: str) -> bool:
    """The rule's condition, computed independently from the raw env-v1 payload."""
    data = bytes.fromhex(payload_hex)
    return len(data) == 8 and data[0] == 0x01 and data[7] % 3 == 0


def report(message: str) -> None:
    """A line in the test log (shown with -s, and in the captured output of a failure)."""
    print(f"[reliability] {message}", flush=True)


# -- waiting ---------------------------------------------------------------------------------------


def wait_until(
    predicate: Callable[[], T], timeout: float, what: str, state: Callable[[], Any] | None = None, interval: float = 0.1,
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds with
    ``what`` and the current ``state()`` so a failure says what was seen."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
        except (sqlite3.Error, httpx.HTTPError, OSError) as exc:  # not there yet (ledger, admin port)
            value, last_error = None, exc  # type: ignore[assignment]
        if value:
            return value
        if time.monotonic() > deadline:
            details = state() if state is not None else None
            raise AssertionError(
                f"timed out after {timeout:g}s waiting for {what}; state: {details!r}"
                + (f"; last error: {last_error!r}" if last_error else "")
            )
        time.sleep(interval)


# -- the daemon ------------------------------------------------------------------------------------


class DaemonProcess:
    """One ``rules-engine run`` subprocess; its stdout and stderr go to its own log file."""

    def __init__(self, config_path: Path, log_path: Path, env: dict[str, str]) -> None:
        self.config_path = config_path
        self.log_path = log_path
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self._admin: str | None = None

    def start(self) -> DaemonProcess:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "rules_engine", "run", "--config", str(self.config_path),
                 "--log-format", "json", "--no-watch"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env,
            )
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def records(self) -> list[dict[str, Any]]:
        """The JSON log lines (anything else, such as a traceback, is skipped)."""
        out = []
        for line in self.text().splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass  # a line cut by SIGKILL
        return out

    def messages(self, message: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("message") == message]

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def running_record(self) -> dict[str, Any] | None:
        found = self.messages("rules-engine running")
        return found[0] if found else None

    def wait_running(self, timeout: float = 30.0) -> str:
        """Wait for the "rules-engine running" line; returns the admin base URL."""
        def ready() -> dict[str, Any] | None:
            if not self.alive():
                raise AssertionError(f"the daemon exited with {self.proc.returncode if self.proc else None} "
                                     f"before running:\n{self.tail()}")
            return self.running_record()

        record = wait_until(ready, timeout, "the daemon to log 'rules-engine running'", self.tail)
        self._admin = str(record["admin"])
        return self._admin

    @property
    def admin(self) -> str:
        assert self._admin is not None, "wait_running() first"
        return self._admin

    def healthz(self) -> tuple[int, dict[str, Any]]:
        response = httpx.get(f"{self.admin}/healthz", timeout=5.0)
        return response.status_code, response.json()

    def metrics(self) -> dict[str, float]:
        """``/metrics`` as ``{'name{labels}': value}`` (comments dropped)."""
        response = httpx.get(f"{self.admin}/metrics", timeout=5.0)
        response.raise_for_status()
        values = {}
        for line in response.text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def signal(self, signum: int) -> None:
        assert self.proc is not None and self.proc.poll() is None, "the daemon is not running"
        os.kill(self.proc.pid, signum)

    def kill(self) -> int:
        """SIGKILL; returns the exit status (-9)."""
        self.signal(signal.SIGKILL)
        assert self.proc is not None
        return self.proc.wait(timeout=10)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the daemon (pid {self.proc.pid}) did not exit within {timeout:g}s:\n{self.tail()}") from None

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        self.signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def cleanup(self) -> None:
        """Teardown: kill this daemon (by its own pid) if a test left it running."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


# -- the ledger (read-only) ------------------------------------------------------------------------


class LedgerReader:
    """Reads the daemon's ledger with a fresh read-only connection per query (WAL allows that
    while the daemon writes)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            raise sqlite3.OperationalError(f"no ledger at {self.path} yet")
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10.0)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.query(sql, params)[0][0]

    def uuids(self) -> set[str]:
        return {row[0] for row in self.query("SELECT uuid FROM uplinks")}

    def outbox_status(self) -> dict[str, int]:
        return dict(self.query("SELECT status, count(*) FROM outbox GROUP BY status"))

    def unsettled(self) -> int:
        return self.scalar("SELECT count(*) FROM outbox WHERE status IN ('pending', 'in_flight')")


# -- the rig -----------------------------------------------------------------------------------------


@dataclass
class Rig:
    tmp: Path
    sim: Simulator
    server: SimulatorServer
    daemons: list[DaemonProcess] = field(default_factory=list)

    @property
    def ledger_path(self) -> Path:
        return self.tmp / "state" / "ledger.db"

    @property
    def ledger(self) -> LedgerReader:
        return LedgerReader(self.ledger_path)

    @property
    def config_path(self) -> Path:
        return self.tmp / "engine.yaml"

    @property
    def rules_path(self) -> Path:
        return self.tmp / "rules.yaml"

    def write_rules(self, text: str, path: Path | None = None) -> Path:
        path = path or self.rules_path
        path.write_text(textwrap.dedent(text))
        return path

    def write_config(
        self, *, poll_interval: str = "1s", overlap: str = "30s", timeout: str = "5s", plugins_dir: Path | None = None,
        decoder: str = "env", ports: dict[int, str] | None = None, decoders: dict[str, Any] | None = None,
    ) -> Path:
        """The engine config (JSON is YAML): one AppToken ``plant``, the ledger under tmp/state,
        the admin server on a free loopback port, JSON logs."""
        config: dict[str, Any] = {
            "conductor": {"base_url": self.server.base_url, "username": self.sim.username,
                          "password_env": PASSWORD_ENV, "timeout": timeout},
            "app_tokens": {"plant": {"token": TOKEN, "decoder": decoder, "ports": ports if ports is not None else {7: "ack"},
                                     "poll_interval": poll_interval, "overlap": overlap}},
            "decoders": decoders if decoders is not None else {"env": ENV_DECODER, "ack": {"type": "hex"}},
            "rules": [str(self.rules_path)],
            "ledger": {"path": str(self.ledger_path)},
            "admin": {"host": "127.0.0.1", "port": 0, "token_env": None},
            "logging": {"format": "json", "level": "info"},
        }
        if plugins_dir is not None:
            config["plugins_dir"] = str(plugins_dir)
        self.config_path.write_text(json.dumps(config, indent=2))
        return self.config_path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("RULES_ENGINE_ADMIN_TOKEN",)}
        env[PASSWORD_ENV] = self.sim.password
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def spawn(self) -> DaemonProcess:
        """Start a daemon (does not wait for it to run)."""
        log_path = self.tmp / f"daemon-{len(self.daemons):02d}.log"
        daemon = DaemonProcess(self.config_path, log_path, self.env()).start()
        self.daemons.append(daemon)
        return daemon

    def start_daemon(self, timeout: float = 30.0) -> DaemonProcess:
        daemon = self.spawn()
        daemon.wait_running(timeout)
        return daemon

    # -- ground truth helpers ----------------------------------------------------------------------

    def truth(self, **filters: Any) -> list[Any]:
        return self.sim.uplinks(app_token=TOKEN, **filters)

    def missing_up_to(self, cutoff: datetime, since: datetime | None = None) -> set[str]:
        return {u.uuid for u in self.truth(until=cutoff, since=since)} - self.ledger.uuids()

    def wait_caught_up(self, cutoff: datetime, timeout: float, since: datetime | None = None) -> None:
        """Wait until every uplink of the simulator up to ``cutoff`` (from ``since``) is in the ledger."""
        wait_until(lambda: not self.missing_up_to(cutoff, since), timeout,
                   f"the ledger to hold every uplink up to {cutoff:%H:%M:%S.%f}",
                   lambda: {"missing": len(self.missing_up_to(cutoff, since)), "in_ledger": len(self.ledger.uuids()),
                            "outbox": self.ledger.outbox_status()})


@pytest.fixture
def make_rig(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    """Start a simulator on the system clock (real HTTP on a free loopback port); the rig is
    torn down (daemons SIGKILLed by pid, simulator stopped) after the test."""
    rigs: list[Rig] = []

    def make(*, devices: int = 12, gateways: int = 2, seed: int = 5, uplink_interval_s: float = 3.0,
             history_s: float = 20.0, downlink_modes: dict[DownlinkMode, float] | None = None,
             faults: Faults | None = None) -> Rig:
        config = FleetConfig.generate(
            devices=devices, gateways=gateways, seed=seed, app_token_hashes=[TOKEN], uplink_interval_s=uplink_interval_s,
            downlink_modes=downlink_modes, history_s=history_s,
        )
        sim = Simulator(config, clock=SystemClock(), faults=faults)
        server = SimulatorServer(sim).start()
        rig = Rig(tmp_path, sim, server)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        for daemon in rig.daemons:
            daemon.cleanup()
        rig.server.stop()


# -- settling and the exactly-once verdict ------------------------------------------------------------


def freeze_polls_and_drain(rig: Rig, daemon: DaemonProcess, cutoff: datetime, *, catch_up_timeout: float = 60.0,
                           drain_timeout: float = 60.0) -> None:
    """Bring the run to quiescence, then stop the daemon with SIGTERM (it must exit 0).

    1. Wait until the ledger holds every uplink up to ``cutoff``.
    2. Make every uplink query fail (and clear every other fault), and wait for a poll to fail
       after that: from then on no new uplink, firing or intent is written.
    3. Wait until no intent is pending or in flight (in-doubt sends reconciled, retries done).
    """
    rig.wait_caught_up(cutoff, catch_up_timeout)
    frozen_at = time.time()
    rig.sim.set_faults(Faults(error_rate=1.0, paths=["/clientEdge/data"]))
    wait_until(lambda: (rig.ledger.scalar("SELECT max(last_error_at) FROM cursors") or 0) > frozen_at, 30,
               "a poll to fail after uplink queries were frozen",
               lambda: rig.ledger.query("SELECT * FROM cursors"))
    wait_until(lambda: rig.ledger.unsettled() == 0, drain_timeout, "the outbox to settle (no pending or in_flight intent)",
               lambda: {"outbox": rig.ledger.outbox_status(), "in_flight": rig.ledger.query(
                   "SELECT key, attempts, last_error FROM outbox WHERE status IN ('pending', 'in_flight') LIMIT 5"),
                        "daemon_alive": daemon.alive()})
    t0 = time.monotonic()
    code = daemon.stop(timeout=15)
    report(f"SIGTERM -> exit {code} in {time.monotonic() - t0:.2f}s")
    assert code == 0, f"the daemon exited {code} after SIGTERM:\n{daemon.tail()}"


def _payload_key(payload_hex: str) -> tuple[int, str] | None:
    data = bytes.fromhex(payload_hex)
    if len(data) != 37:
        return None
    return data[0], data[1:].decode("ascii", errors="replace")


def verify_exactly_once(rig: Rig, cutoff: datetime) -> dict[str, int]:
    """Compare the stopped daemon's ledger and the simulator's commands with ground truth.

    - every uplink up to ``cutoff`` is in the ledger, exactly once, as generated; none invented;
    - the firings are exactly those predicted by applying the condition to the payloads;
    - every firing's unicast and multicast were issued exactly once, with the planned target,
      port and payload; no command exists that the ledger does not know; every intent is done.
    """
    ledger = rig.ledger
    truth = {u.uuid: u for u in rig.truth()}
    rows = ledger.query("SELECT uuid, module, gateway, port, payload_hex FROM uplinks")
    total, distinct = ledger.query("SELECT count(*), count(DISTINCT uuid) FROM uplinks")[0]
    assert total == distinct == len(rows)
    stored = {row[0]: row for row in rows}
    invented = set(stored) - set(truth)
    assert not invented, f"{len(invented)} uplinks in the ledger the simulator never produced: {sorted(invented)[:5]}"
    altered = [row for row in rows if (truth[row[0]].module, truth[row[0]].gateway, truth[row[0]].port,
                                       truth[row[0]].payload_hex) != tuple(row[1:])]
    assert not altered, f"uplinks stored differently from what was produced: {altered[:5]}"
    expected = {uuid for uuid, u in truth.items() if u.time <= cutoff}
    missing = expected - set(stored)
    assert not missing, f"{len(missing)} of {len(expected)} uplinks up to the cutoff are missing: {sorted(missing)[:5]}"

    predicted = {(RULE_ID, uuid) for uuid in stored if truth[uuid].kind == "data" and truth[uuid].port == 1
                 and fires(truth[uuid].payload_hex)}
    firing_rows = ledger.query("SELECT rule_id, event_id FROM firings")
    firings = set(firing_rows)
    assert len(firing_rows) == len(firings), "a (rule, event) fired twice"
    assert firings == predicted, (f"firings differ from the prediction: {len(firings - predicted)} unexpected "
                                  f"{sorted(firings - predicted)[:3]}, {len(predicted - firings)} missing "
                                  f"{sorted(predicted - firings)[:3]}")
    assert any(truth[uuid].time <= cutoff for _rule, uuid in firings), "nothing fired before the cutoff: the test proves nothing"

    outbox = ledger.query("SELECT key, action, status, last_error FROM outbox")
    assert Counter(action for _k, action, _s, _e in outbox) == {"unicast": len(firings), "multicast": len(firings),
                                                                 "log": len(firings)}
    not_done = [row for row in outbox if row[2] != "done"]
    assert not not_done, f"{len(not_done)} intents are not done: {not_done[:5]}"

    sends = ledger.query("SELECT intent_key, kind, issuance_id, reconciled FROM sends")
    send_ids = [row[2] for row in sends]
    assert None not in send_ids, f"sends without an issuance id: {[r for r in sends if r[2] is None][:5]}"
    assert len(set(send_ids)) == len(send_ids) == 2 * len(firings), f"{len(sends)} sends for {len(firings)} firings"

    commands = rig.sim.commands()
    by_key: dict[tuple[int, str], list[Any]] = {}
    for command in commands:
        key = _payload_key(command.payload_hex)
        assert key is not None, f"a command the rule never plans: {command.payload_hex} ({command.kind})"
        by_key.setdefault(key, []).append(command)
    duplicated = {key: [c.issuance_id for c in cs] for key, cs in by_key.items() if len(cs) > 1}
    assert not duplicated, f"{len(duplicated)} intended sends were issued more than once: {list(duplicated.items())[:3]}"
    fired_uuids = {uuid for _rule, uuid in firings}
    intended = {(UNICAST_MARKER, u) for u in fired_uuids} | {(MULTICAST_MARKER, u) for u in fired_uuids}
    assert set(by_key) == intended, (f"commands differ from the intended sends: {len(set(by_key) - intended)} extra "
                                     f"{sorted(set(by_key) - intended)[:3]}, {len(intended - set(by_key))} never issued "
                                     f"{sorted(intended - set(by_key))[:3]}")
    for (marker, uuid), (command,) in by_key.items():
        uplink = truth[uuid]
        if marker == UNICAST_MARKER:
            assert command.kind == "unicast" and command.targets == [uplink.module] and command.port == UNICAST_PORT, command
        else:
            assert command.kind == "gateway_multicast" and command.app_token == TOKEN and command.port == MULTICAST_PORT, command
            assert command.routes and all(route.endswith("!" + uplink.gateway) for route in command.routes), command
    by_id = {c.issuance_id: c for c in commands}
    assert set(by_id) == set(send_ids), (f"the ledger and the simulator disagree on the commands: "
                                         f"unknown to the ledger {sorted(set(by_id) - set(send_ids))[:3]}, "
                                         f"unknown to the simulator {sorted(set(send_ids) - set(by_id))[:3]}")
    for intent_key, kind, issuance_id, _reconciled in sends:
        rule_id, event_id, _index = intent_key.split("|")
        marker = UNICAST_MARKER if kind == "unicast" else MULTICAST_MARKER
        assert _payload_key(by_id[issuance_id].payload_hex) == (marker, event_id), (intent_key, by_id[issuance_id])
    return {
        "uplinks_in_ledger": len(stored),
        "uplinks_expected_up_to_cutoff": len(expected),
        "data_uplinks": sum(1 for uuid in stored if truth[uuid].kind == "data"),
        "ack_uplinks": sum(1 for uuid in stored if truth[uuid].kind == "ack"),
        "firings": len(firings),
        "commands": len(commands),
        "reconciled_sends": sum(row[3] for row in sends),
        "max_attempts": ledger.scalar("SELECT max(attempts) FROM outbox") or 0,
    }


def cutoff_now(rig: Rig, lag_s: float = 2.0) -> datetime:
    """A cutoff a little in the past of the simulator's clock."""
    return rig.sim.now() - timedelta(seconds=lag_s)
