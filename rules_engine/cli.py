"""The ``rules-engine`` command line."""

from __future__ import annotations

from pathlib import Path

import click

from . import __version__
from .cli_ledger import ledger_group
from .cli_rules import plugins_command, replay_command, test_command, validate_command
from .simulator.cli import simulate_command

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="rules-engine")
def main() -> None:
    """Automation rules engine for Link Labs Conductor.

    Polls the uplinks of each Application Token, evaluates YAML rules with JsonLogic conditions and
    fires actions (multicast and unicast downlinks, webhooks), tracking multicast delivery device by
    device in an SQLite ledger.
    """


@main.command("demo")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: run until Ctrl-C).")
@click.option("--devices", default=60, show_default=True, help="Modules in the simulated fleet.")
@click.option("--gateways", default=4, show_default=True, help="Gateways in the simulated fleet.")
def demo_command(duration: float | None, devices: int, gateways: int) -> None:
    """Run the simulator and the daemon with the demo rules, with a live view, then a summary."""
    from .demo import run_demo

    run_demo(duration, devices=devices, gateways=gateways)


for command in (simulate_command, validate_command, test_command, replay_command, plugins_command, ledger_group):
    main.add_command(command)


@main.command("run")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), required=True,
              help="The engine config (YAML). Secrets come from the environment or owner-only files.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None, help="Overrides logging.format.")
@click.option("--no-watch", is_flag=True, help="Do not reload rules when their files change (SIGHUP still reloads).")
def run_command(config_path: str, log_format: str | None, no_watch: bool) -> None:
    """Run the daemon: poll every AppToken, evaluate the rules, send, until SIGTERM or Ctrl-C.

    Rules reload on file change or SIGHUP; a rule set with errors is rejected and the running one
    stays (reported in the log, /healthz and /metrics).
    """
    import asyncio

    from .config import load_config
    from .daemon import Daemon
    from .errors import ConfigError, LedgerError, PluginError
    from .logs import configure_logging

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    configure_logging(log_format or config.logging.format, config.logging.level)
    try:
        asyncio.run(Daemon(config, watch=not no_watch).run())
    except (ConfigError, LedgerError, PluginError) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init_command(directory: Path, force: bool) -> None:
    """Create DIRECTORY with a config, a rules directory holding one commented example rule and
    its test cases, and a plugins directory."""
    from .scaffold import scaffold

    try:
        written = scaffold(directory, force=force)
    except FileExistsError as exc:
        raise click.ClickException(f"these files exist already (use --force to overwrite): {exc}") from exc
    for path in written:
        click.echo(f"created {path}")
    click.echo(f"\nnext: edit {directory}/engine.yaml (username, AppToken, decoder), then\n"
               f"  cd {directory} && rules-engine validate && rules-engine test rules/\n"
               f"  CONDUCTOR_PASSWORD=... rules-engine run --config engine.yaml")
