"""The ``rules-engine`` command line."""

from __future__ import annotations

import click

from . import __version__
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
@click.option("--poll-interval", default=2.0, show_default=True, help="Seconds between polls.")
def demo_command(duration: float | None, devices: int, gateways: int, poll_interval: float) -> None:
    """Start the bundled Conductor simulator and watch the client read the live fleet."""
    from .demo import run_demo

    run_demo(duration, devices=devices, gateways=gateways, interval=poll_interval)


for command in (simulate_command, validate_command, test_command, replay_command, plugins_command):
    main.add_command(command)
