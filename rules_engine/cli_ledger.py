"""``rules-engine ledger ...``: read the ledger through a read-only connection (also while the
daemon runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from .config import load_config
from .errors import ConfigError, LedgerError
from .ledger import queries
from .ledger.store import Ledger

__all__ = ["ledger_group"]


def _open(ctx: click.Context) -> Ledger:
    options = ctx.obj
    path = options["path"]
    if path is None:
        config_path = options["config"] or (Path("engine.yaml") if Path("engine.yaml").exists() else None)
        if config_path is None:
            raise click.UsageError("give --ledger PATH or --config FILE (or run where engine.yaml is)")
        try:
            path = load_config(config_path).ledger.path
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
    try:
        return Ledger.open_reader(path)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc


def _show(rows: list[dict[str, Any]], columns: list[str], as_json: bool, title: str) -> None:
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, default=str))
        return
    table = Table(title=f"{title} ({len(rows)})")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*["" if row.get(c) is None else (json.dumps(row[c]) if isinstance(row[c], (dict, list)) else str(row[c]))
                        for c in columns])
    Console(width=max(Console().width, 140)).print(table)


json_option = click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
ROW_ID = click.IntRange(0, 2**63 - 1)  # what SQLite's INTEGER holds
limit_option = click.option("--limit", type=ROW_ID, default=20, show_default=True,
                            help="How many rows (newest first); 0 for all of them.",
                            callback=lambda _ctx, _param, value: -1 if value == 0 else value)  # SQLite: LIMIT -1 is none


@click.group("ledger")
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Engine config whose ledger.path to read (default: ./engine.yaml).")
@click.option("--ledger", "path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="The ledger file itself.")
@click.pass_context
def ledger_group(ctx: click.Context, config: Path | None, path: Path | None) -> None:
    """Inspect the ledger: uplinks, firings (with why), intents and sends. Read-only."""
    ctx.obj = {"config": config, "path": path}


@ledger_group.command("summary")
@json_option
@click.pass_context
def summary_command(ctx: click.Context, as_json: bool) -> None:
    """Counts, per-rule firings, outbox states and each AppToken's cursor."""
    with _open(ctx) as ledger:
        report = queries.summary(ledger.conn)
    if as_json:
        click.echo(json.dumps(report, default=str))
        return
    click.echo(f"uplinks {report['uplinks']} ({report['decode_errors']} decode errors), devices {report['devices']}, "
               f"firings {report['firings']}, downlinks sent {report['sends']}")
    click.echo("intents: " + (", ".join(f"{k} {v}" for k, v in sorted(report["intents"].items())) or "none"))
    for rule, count in report["firings_by_rule"].items():
        click.echo(f"  {rule}: {count} firing(s)")
    for cursor in report["cursors"]:
        click.echo(f"AppToken {cursor['alias'] or cursor['app_token']}: polled up to {cursor['cursor']}, last success "
                   f"{cursor['last_success']}" + (f", {cursor['consecutive_errors']} error(s): {cursor['last_error']}"
                                                  if cursor["consecutive_errors"] else ""))


@ledger_group.command("uplinks")
@limit_option
@click.option("--module", default=None, help="Only this module.")
@json_option
@click.pass_context
def uplinks_command(ctx: click.Context, limit: int, module: str | None, as_json: bool) -> None:
    """The newest uplinks, with decoded fields or the decode error."""
    with _open(ctx) as ledger:
        rows = queries.list_uplinks(ledger.conn, limit, module)
    _show(rows, ["time", "module", "gateway", "port", "payload_hex", "decoded", "decode_error"], as_json, "uplinks")


@ledger_group.command("firings")
@limit_option
@click.option("--rule", default=None, help="Only this rule.")
@json_option
@click.pass_context
def firings_command(ctx: click.Context, limit: int, rule: str | None, as_json: bool) -> None:
    """The newest firings, with the values that decided them."""
    with _open(ctx) as ledger:
        rows = queries.list_firings(ledger.conn, limit, rule)
    _show(rows, ["id", "time", "rule_id", "event_kind", "event_id", "why", "values"], as_json, "firings")


@ledger_group.command("firing")
@click.argument("firing_id", type=ROW_ID)
@click.pass_context
def firing_command(ctx: click.Context, firing_id: int) -> None:
    """One firing in full: the event, the evaluation trace and each action's fate."""
    with _open(ctx) as ledger:
        detail = queries.firing_detail(ledger.conn, firing_id)
    if detail is None:
        raise click.ClickException(f"no firing {firing_id}; 'rules-engine ledger firings' lists them")
    click.echo(json.dumps(detail, indent=2, default=str))


@ledger_group.command("intents")
@limit_option
@click.option("--status", type=click.Choice(["pending", "in_flight", "done", "failed", "applied"]), default=None)
@json_option
@click.pass_context
def intents_command(ctx: click.Context, limit: int, status: str | None, as_json: bool) -> None:
    """The outbox: every action of every firing, its status, attempts and last error."""
    with _open(ctx) as ledger:
        rows = queries.list_intents(ledger.conn, limit, status)
    _show(rows, ["updated", "key", "action", "status", "attempts", "summary", "last_error"], as_json, "intents")


@ledger_group.command("downlinks")
@limit_option
@json_option
@click.pass_context
def downlinks_command(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Every downlink issued to Conductor, with its issuance id."""
    with _open(ctx) as ledger:
        rows = queries.list_sends(ledger.conn, limit)
    _show(rows, ["issued", "rule_id", "kind", "issuance_id", "app_token", "module", "gateways", "payload_hex", "port", "reconciled"],
          as_json, "downlinks")


@ledger_group.command("sends")
@limit_option
@click.option("--status", type=click.Choice(["pending", "open", "complete", "partial", "expired"]), default=None)
@json_option
@click.pass_context
def sends_command(ctx: click.Context, limit: int, status: str | None, as_json: bool) -> None:
    """Tracked sends (ack:) and their acknowledgement progress."""
    with _open(ctx) as ledger:
        rows = queries.list_tracked_sends(ledger.conn, limit, status)
    for row in rows:
        row["retried"] = row.pop("acked_after_retry")
    _show(rows, ["id", "issued", "rule_id", "kind", "seq", "status", "round", "progress", "retried", "unreachable",
                 "waiting", "finished"], as_json, "tracked sends")


@ledger_group.command("send")
@click.argument("send_id", type=ROW_ID)
@json_option
@click.pass_context
def send_command(ctx: click.Context, send_id: int, as_json: bool) -> None:
    """One tracked send: progress per gateway and per device, and each downlink it took."""
    with _open(ctx) as ledger:
        detail = queries.tracked_send_detail(ledger.conn, send_id)
    if detail is None:
        raise click.ClickException(f"no tracked send {send_id}; 'rules-engine ledger sends' lists them")
    if as_json:
        click.echo(json.dumps(detail, default=str))
        return
    click.echo(f"send {detail['id']} of rule {detail['rule_id']}: {detail['kind']} seq {detail['seq']} on {detail['app_token']}, "
               f"{detail['status']} after round {detail['round']} (issued {detail['issued']}, finished {detail['finished'] or '-'})")
    console = Console(width=max(Console().width, 120))
    gateways = Table(title="per gateway")
    for column in ("gateway", "expected", "acked", "unreachable", "waiting", "progress"):
        gateways.add_column(column)
    for gateway, counts in detail["gateways"].items():
        done = counts["acked"] / counts["expected"] if counts["expected"] else 0.0
        bar = "█" * round(done * 20) + "·" * (20 - round(done * 20))
        gateways.add_row(gateway, str(counts["expected"]), str(counts["acked"]), str(counts.get("unreachable", 0)),
                         str(counts.get("waiting", 0)), f"{bar} {done:4.0%}")
    console.print(gateways)
    devices = Table(title="per device")
    for column in ("module", "gateway", "status", "acked", "downlinks"):
        devices.add_column(column)
    for target in detail["targets"]:
        devices.add_row(target["module"], target["gateway"] or "", target["status"], target["acked"] or "", str(target["attempts"]))
    console.print(devices)
    for downlink in detail["downlinks"]:
        click.echo(f"  {downlink['status']:9} {downlink['summary']}")
