"""``rules-engine simulate``: serve a simulated Conductor until Ctrl-C."""

from __future__ import annotations

import ipaddress
import signal
import threading

import click

from rules_engine.clock import SystemClock
from rules_engine.simulator._invented import DEFAULT_PASSWORD, DEFAULT_USERNAME
from rules_engine.simulator.config import FleetConfig
from rules_engine.simulator.server import SimulatorServer
from rules_engine.simulator.simulator import Simulator

__all__ = ["simulate_command", "is_loopback"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("simulate")
@click.option("--devices", default=200, show_default=True, type=click.IntRange(min=1), help="Number of modules.")
@click.option("--gateways", default=4, show_default=True, type=click.IntRange(min=0),
              help="Number of Symphony gateways (0: an LTE-M fleet, --lte-fraction 1).")
@click.option("--app-tokens", default=1, show_default=True, type=click.IntRange(min=1), help="Number of AppTokens (generated).")
@click.option("--app-token", "app_token_hashes", multiple=True, help="Use this AppToken hash (repeatable).")
@click.option("--lte-fraction", default=0.0, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Fraction of LTE-M ($303$) modules.")
@click.option("--interval", default=60.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Mean uplink interval per module, seconds.")
@click.option("--history", default=600.0, show_default=True, type=click.FloatRange(min=0.0),
              help="Seconds of past uplinks present at start.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, help="0 picks a free port.")
@click.option("--seed", default=0, show_default=True, help="Seed of the fleet and every random choice.")
@click.option("--username", default=DEFAULT_USERNAME, show_default=True)
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True)
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (see the warning).")
def simulate_command(
    devices: int,
    gateways: int,
    app_tokens: int,
    app_token_hashes: tuple[str, ...],
    lte_fraction: float,
    interval: float,
    history: float,
    host: str,
    port: int,
    seed: int,
    username: str,
    password: str,
    allow_remote: bool,
) -> None:
    """Serve a simulated Link Labs Conductor (ClientEdge, NetworkAsset, Access) on HOST:PORT."""
    if not is_loopback(host) and not allow_remote:
        raise click.UsageError(
            f"refusing to listen on {host}: the simulator is a fake Conductor with well-known demo "
            "credentials over plain HTTP; anyone who can reach it could read its data and issue "
            "commands, and clients could mistake it for the real service. Use a loopback address, "
            "or pass --allow-remote if you really mean it."
        )
    try:
        config = FleetConfig.generate(
            devices=devices,
            gateways=gateways,
            app_tokens=max(app_tokens, len(app_token_hashes)),
            seed=seed,
            app_token_hashes=app_token_hashes,
            lte_fraction=lte_fraction,
            uplink_interval_s=interval,
            username=username,
            password=password,
            history_s=history,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    simulator = Simulator(config, clock=SystemClock())
    server = SimulatorServer(simulator, host=host, port=port)
    try:
        server.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    base = server.base_url
    first = config.app_tokens[0].hash if config.app_tokens else "<apptoken>"
    click.echo(f"Conductor simulator listening on {base}")
    click.echo(f"  clientEdge:   {base}/clientEdge")
    click.echo(f"  networkAsset: {base}/networkAsset")
    click.echo(f"  access:       {base}/access")
    click.echo(f"  username: {username}")
    click.echo(f"  password: {password}")
    click.echo(f"  account:  {config.account.id} ({config.account.name})")
    for token in config.app_tokens:
        click.echo(f"  app token: {token.hash}  ({token.name})")
    click.echo(f"  {len(config.modules)} modules, {len(config.gateways)} gateways, seed {seed}")
    click.echo("Try:")
    click.echo(
        f"  curl -u '{username}:{password}' "
        f"'{base}/clientEdge/data/uplinkPayload/applicationToken/{first}/mostRecentEvents?maxResults=5'"
    )
    click.echo("Press Ctrl-C to stop.", nl=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    click.echo("simulator stopped")
