"""``rules-engine demo``: the whole product on one machine, in under a minute.

Starts the bundled Conductor simulator on a free loopback port and the real daemon against it,
with the demo config and rules of ``rules_engine/demo_fleet/``, shows a live view (uplinks per
second, firings, sends) and ends with a ledger summary checked against the simulator's ground
truth.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from .clock import SystemClock
from .config import load_config
from .daemon import Daemon
from .errors import LedgerError
from .ledger import queries
from .ledger.store import Ledger
from .logs import configure_logging
from .simulator import DownlinkMode, FleetConfig, Simulator, SimulatorServer

__all__ = ["run_demo", "DemoReport", "DEMO_FLEET"]

DEMO_FLEET = Path(__file__).parent / "demo_fleet"
PLANT = "9a3e51c07b22d4f68e15"


@dataclass
class DemoReport:
    summary: dict[str, Any] = field(default_factory=dict)
    generated: int = 0
    missed: int = 0
    commands: int = 0
    delivered: int = 0
    ledger_sends: int = 0
    tracked: list[dict[str, Any]] = field(default_factory=list)


def _view(ledger: Ledger | None, simulator: Simulator, started: float, rates: list[tuple[float, int]], base_url: str) -> Group:
    if ledger is None:
        return Group(Panel("starting the daemon…"))
    summary = queries.summary(ledger.conn)
    now = time.monotonic()
    rates.append((now, summary["uplinks"]))
    while len(rates) > 2 and now - rates[0][0] > 10:
        rates.pop(0)
    rate = (rates[-1][1] - rates[0][1]) / (rates[-1][0] - rates[0][0]) if len(rates) > 1 and rates[-1][0] > rates[0][0] else 0.0
    commands = simulator.commands()
    head = Table.grid(padding=(0, 3))
    head.add_row(f"[b]running[/b] {now - started:5.0f} s", f"[b]simulator[/b] {base_url}",
                 f"[b]uplinks[/b] {summary['uplinks']} ({rate:.1f}/s)", f"[b]firings[/b] {summary['firings']}",
                 f"[b]downlinks issued[/b] {len(commands)}",
                 f"[b]delivered[/b] {sum(len(c.deliveries) for c in commands)}")
    rules = Table(title="firings per rule", expand=True)
    rules.add_column("rule")
    rules.add_column("firings", justify="right")
    for rule, count in summary["firings_by_rule"].items():
        rules.add_row(rule, str(count))
    recent = Table(title="latest firings (from the ledger)", expand=True)
    for column in ("time (UTC)", "rule", "why", "values"):
        recent.add_column(column, overflow="fold")
    for firing in queries.list_firings(ledger.conn, 6):
        recent.add_row(firing["time"][11:23], firing["rule_id"], firing["why"] or "",
                       ", ".join(f"{k}={v}" for k, v in (firing["values"] or {}).items()))
    sends = Table(title="latest downlinks (the simulator's record)", expand=True)
    for column in ("issued", "kind", "payload", "port", "reached"):
        sends.add_column(column)
    for command in commands[-6:][::-1]:
        sends.add_row(command.issued_at.strftime("%H:%M:%S.%f")[:-3], command.kind, command.payload_hex, str(command.port),
                      f"{len(command.deliveries)} device(s)")
    tracked = Table(title="tracked sends (application-level acknowledgement)", expand=True)
    for column in ("send", "rule", "seq", "status", "round", "confirmed", "after retry", "unreachable"):
        tracked.add_column(column)
    for send in queries.list_tracked_sends(ledger.conn, 4):
        done = (send["acked"] or 0) / send["expected"] if send["expected"] else 0.0
        bar = "█" * round(done * 20) + "·" * (20 - round(done * 20))
        tracked.add_row(str(send["id"]), send["rule_id"], str(send["seq"]), send["status"], str(send["round"]),
                        f"{bar} {send['acked'] or 0}/{send['expected']}", str(send["acked_after_retry"] or 0),
                        str(send["unreachable"] or 0))
    return Group(Panel(head), rules, tracked, recent, sends)


def run_demo(duration: float | None, devices: int = 60, gateways: int = 4, console: Console | None = None) -> DemoReport:
    """Run the demo for ``duration`` seconds (``None``: until Ctrl-C); return what it saw."""
    console = console or Console()
    workdir = Path(tempfile.mkdtemp(prefix="rules-engine-demo-"))
    configure_logging("text", "info", stream=(workdir / "daemon.log").open("a", encoding="utf-8"))
    fleet = FleetConfig.generate(
        devices=devices, gateways=gateways, seed=1, app_token_hashes=[PLANT], uplink_interval_s=10.0, history_s=30.0,
        lte_fraction=0.1, downlink_modes={DownlinkMode.ALWAYS: 0.85, DownlinkMode.MAILBOX: 0.15},
    )
    simulator = Simulator(fleet, clock=SystemClock())
    report = DemoReport()
    with SimulatorServer(simulator) as server:
        base = load_config(DEMO_FLEET / "engine.yaml")
        config = base.model_copy(update={
            "conductor": base.conductor.model_copy(update={"base_url": server.base_url}),
            "ledger": base.ledger.model_copy(update={"path": workdir / "ledger.db"}),
        })
        daemon = Daemon(config, environ={"CONDUCTOR_PASSWORD": server.simulator.password}, watch=False)
        console.print(f"[b]rules-engine demo[/b]: simulator at {server.base_url} ({devices} devices, {gateways} gateways); "
                      f"ledger and log in {workdir}; rules from {DEMO_FLEET / 'rules'}. Ctrl-C to stop.")

        async def main() -> None:
            task = asyncio.create_task(daemon.run())
            if duration is not None:
                asyncio.get_running_loop().call_later(duration, daemon.stop_requested.set)
            started, rates = time.monotonic(), []
            ledger: Ledger | None = None
            live = Live(_view(None, simulator, started, rates, server.base_url), console=console, refresh_per_second=2,
                        transient=False) if console.is_terminal else None
            if live:
                live.start()
            try:
                last_line = 0.0
                announced = False
                while not task.done():
                    await asyncio.sleep(0.5)
                    if not announced and daemon.admin_port:
                        announced = True
                        line = f"status page: http://127.0.0.1:{daemon.admin_port}/  (/healthz, /metrics)"
                        (live.console.print(line) if live else console.print(line))
                    if ledger is None:
                        try:
                            ledger = Ledger.open_reader(workdir / "ledger.db")
                        except LedgerError:
                            continue
                    if live:
                        live.update(_view(ledger, simulator, started, rates, server.base_url))
                    elif time.monotonic() - last_line >= 5:
                        last_line = time.monotonic()
                        s = queries.summary(ledger.conn)
                        console.print(f"{time.monotonic() - started:5.0f} s: {s['uplinks']} uplinks, {s['firings']} firings, "
                                      f"{len(simulator.commands())} downlinks issued")
                await task
            finally:
                if live:
                    live.stop()
                if ledger is not None:
                    ledger.close()

        asyncio.run(main())
        with Ledger.open_reader(workdir / "ledger.db") as ledger:
            report.summary = queries.summary(ledger.conn)
            stored = {row[0] for row in ledger.conn.execute("SELECT uuid FROM uplinks")}
            span = ledger.conn.execute("SELECT min(ts), max(cursor_ts) FROM uplinks, cursors").fetchone()
            report.ledger_sends = report.summary["sends"]
            report.tracked = queries.list_tracked_sends(ledger.conn, 1000)
        commands = simulator.commands()
        report.commands, report.delivered = len(commands), sum(len(c.deliveries) for c in commands)
        if span[0] is not None:
            from datetime import datetime, timezone

            truth = simulator.uplinks(app_token=PLANT, since=datetime.fromtimestamp(span[0], tz=timezone.utc),
                                      until=datetime.fromtimestamp(span[1], tz=timezone.utc), visible_only=True)
            report.generated = len(truth)
            report.missed = len({r.uuid for r in truth} - stored)
    _print_summary(console, report, workdir)
    return report


def _print_summary(console: Console, report: DemoReport, workdir: Path) -> None:
    s = report.summary
    console.print("\n[b]ledger summary[/b]")
    console.print(f"  uplinks processed: {s.get('uplinks', 0)} from {s.get('devices', 0)} devices "
                  f"({s.get('decode_errors', 0)} decode errors); the simulator generated {report.generated} in the polled "
                  f"span, missed: {report.missed}")
    console.print(f"  firings: {s.get('firings', 0)}  " + ", ".join(f"{rule} {n}" for rule, n in s.get("firings_by_rule", {}).items()))
    console.print("  intents: " + (", ".join(f"{k} {v}" for k, v in sorted(s.get("intents", {}).items())) or "none"))
    console.print(f"  downlinks sent: {report.ledger_sends} (the simulator issued {report.commands}, "
                  f"delivered to {report.delivered} device(s))")
    for send in sorted(report.tracked, key=lambda row: row["id"]):
        console.print(f"  tracked send {send['id']} ({send['rule_id']}, seq {send['seq']}): {send['status']}, "
                      f"{send['acked'] or 0}/{send['expected']} confirmed, {send['acked_after_retry'] or 0} after a retry, "
                      f"{send['unreachable'] or 0} unreachable")
    console.print(f"  inspect it: rules-engine ledger --ledger {workdir / 'ledger.db'} summary   (or: sends, send ID, firings)")
