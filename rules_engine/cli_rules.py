"""CLI commands that work on rule files offline: validate, test, replay, plugins."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from .config import EngineConfig, load_config
from .errors import ConfigError, PluginError
from .toolkit import Toolkit

__all__ = ["validate_command", "test_command", "replay_command", "plugins_command"]

DEFAULT_CONFIG = Path("engine.yaml")

config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Engine config (AppToken aliases, decoders, plugins_dir). Default: ./engine.yaml if it exists.",
)
plugins_option = click.option(
    "--plugins-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Load local plugins from this directory (overrides the config's plugins_dir).",
)


def _quiet() -> None:
    """Planning errors are part of the command's own output; don't repeat them as log lines."""
    logging.getLogger("rules_engine").setLevel(logging.ERROR)


def _config(path: Path | None) -> EngineConfig:
    if path is None:
        if not DEFAULT_CONFIG.exists():
            return EngineConfig()
        path = DEFAULT_CONFIG
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _no_config_note(config_path: Path | None) -> str | None:
    """Said beside rule errors when no config was read: aliases, decoders and plugin operators
    come from one, so without it every rule that uses them fails."""
    if config_path is not None or DEFAULT_CONFIG.exists():
        return None
    return (f"note: no engine config was read (there is no ./{DEFAULT_CONFIG}): AppToken aliases, decoders and "
            "plugin operators come from it; pass --config PATH")


def _toolkit(config: EngineConfig, plugins_dir: Path | None) -> Toolkit:
    try:
        return Toolkit.create(config, plugins_dir=plugins_dir)
    except (ConfigError, PluginError) as exc:
        raise click.ClickException(str(exc)) from exc


def _paths(paths: tuple[Path, ...], config: EngineConfig) -> list[Path]:
    if paths:
        return list(paths)
    if config.rules:
        return list(config.rules)
    if config.source_file is not None:
        raise click.UsageError(f"the config {config.source_file} lists no rules (its 'rules:' is empty or missing); "
                               "give rule files or directories, or list them under 'rules:'")
    raise click.UsageError("give rule files or directories, or a config whose 'rules:' lists them "
                           "(no --config was given, and there is no ./engine.yaml here)")


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_option
@plugins_option
@click.option("--strict", is_flag=True, help="Treat warnings (lint findings) as errors.")
def validate_command(paths: tuple[Path, ...], config_path: Path | None, plugins_dir: Path | None, strict: bool) -> None:
    """Check rule files: print every problem with file:line:column, exit 1 if there is any error.

    PATHS are rule files or directories (searched for *.yaml, skipping *.test.yaml); default:
    the config's 'rules:'.
    """
    from .rules.loader import load_rules

    config = _config(config_path)
    toolkit = _toolkit(config, plugins_dir)
    ruleset = load_rules(_paths(paths, config), toolkit)
    for problem in ruleset.problems:
        click.echo(str(problem), err=problem.severity == "error")
    errors = len(ruleset.errors) + (len(ruleset.warnings) if strict else 0)
    if not ruleset.rules and not ruleset.errors:
        click.echo("no rule found: the daemon refuses to start without one", err=True)
        errors += 1
    summary = (f"{len(ruleset.rules)} rule(s) loaded from {len(ruleset.files)} file(s); "
               f"{len(ruleset.errors)} error(s), {len(ruleset.warnings)} warning(s)")
    click.echo(summary, err=bool(errors))
    note = _no_config_note(config_path) if ruleset.errors else None
    if note:
        click.echo(note, err=True)
    sys.exit(1 if errors else 0)


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@config_option
@plugins_option
@click.option("-v", "--verbose", is_flag=True, help="Also list the passing cases and what fired.")
def test_command(paths: tuple[Path, ...], config_path: Path | None, plugins_dir: Path | None, verbose: bool) -> None:
    """Run the rule test cases (*.test.yaml) found in PATHS, offline; exit 1 on any failure.

    Each test gives uplinks (and optionally prior state, schedule, silence and send events) and
    the firings it expects, with their actions and payload bytes, or 'expect: []' for silence.
    PATHS are test files or directories; default: the config's 'rules:'.
    """
    from .rules.tester import find_test_files, run_test_file

    _quiet()
    config = _config(config_path)
    toolkits: dict[int, Toolkit] = {}

    def toolkit_for(cfg: EngineConfig) -> Toolkit:
        key = id(cfg)
        if key not in toolkits:
            toolkits[key] = Toolkit.create(cfg, plugins_dir=plugins_dir)
        return toolkits[key]

    files = find_test_files(list(paths) or _paths((), config))
    if not files:
        raise click.ClickException("no test files (*.test.yaml) found")
    passed = failed = 0
    for path in files:
        for result in run_test_file(path, config, toolkit_for):
            if result.passed:
                passed += 1
                if verbose:
                    click.echo(f"PASS {result.file} :: {result.name}")
                    for firing in result.firings:
                        click.echo(f"       {firing.describe()}")
            else:
                failed += 1
                click.echo(f"FAIL {result.file} :: {result.name}")
                for line in result.lines:
                    click.echo(f"     {line}")
    click.echo(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


@click.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Rule files or directories (default: the config's 'rules:').")
@config_option
@plugins_option
@click.option("--dry-run", is_flag=True, required=True, help="Required: replay never sends anything.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON lines instead of a table.")
def replay_command(file: Path, rule_paths: tuple[Path, ...], config_path: Path | None, plugins_dir: Path | None,
                   dry_run: bool, as_json: bool) -> None:
    """Feed recorded uplinks (JSON lines in Conductor's result shape) through the rules and print
    the send plan: what would be sent, to whom, through which gateway, and why. Sends nothing."""
    from .replay import replay_file

    _quiet()
    config = _config(config_path)
    toolkit = _toolkit(config, plugins_dir)
    plan = replay_file(file, _paths(rule_paths, config), toolkit)
    if plan.problems:
        for problem in plan.problems:
            click.echo(str(problem), err=True)
        if plan.rules_failed:
            note = _no_config_note(config_path)
            raise click.ClickException("the rules do not load; fix them first (see 'rules-engine validate')"
                                       + (f"\n{note}" if note else ""))
    if not plan.uplinks:
        first = f"; line {plan.skipped_reasons[0]}" if plan.skipped_reasons else ""
        raise click.ClickException(
            f"{file} holds no uplink: {plan.skipped} line(s) skipped{first}. Replay reads JSON lines, each one "
            "Conductor result (an object with uuid, time and value.module), as the API returns them in 'results'")
    if as_json:
        for step in plan.steps:
            click.echo(json.dumps(step, default=str))
        _print_skipped(plan, err=True)
    else:
        _print_plan(plan)


def _print_plan(plan: Any) -> None:
    click.echo(f"send plan: {len(plan.steps)} action(s) from {plan.uplinks} uplink(s); nothing was sent")
    previous = None
    for step in plan.steps:
        firing = (step["uplink"], step["rule"])
        if firing != previous:
            previous = firing
            values = ", ".join(f"{k}={json.dumps(v)}" for k, v in step["values"].items())
            click.echo(f"\n{step['time'][:23].replace('T', ' ')}  uplink {step['uplink']} from {step['module']}")
            click.echo(f"  rule {step['rule']}: {step['reason']}" + (f" ({values})" if values else ""))
        click.echo(f"    - {step['summary']}")
        if step["target"] and step["target"] not in step["summary"]:
            click.echo(f"      reaches: {step['target']}")
        for field in step.get("payload") or []:
            click.echo(f"      {field['name']} ({field['type']}) = {json.dumps(field['value'])} -> {field['hex']}")
    _print_skipped(plan)


def _print_skipped(plan: Any, err: bool = False) -> None:
    if plan.skipped:
        click.echo(f"\n{plan.skipped} line(s) skipped (not an uplink result):", err=err)
        for line in plan.skipped_reasons[:10]:
            click.echo(f"  {line}", err=err)


@click.command("plugins")
@config_option
@plugins_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_command(config_path: Path | None, plugins_dir: Path | None, as_json: bool) -> None:
    """List the loaded plugins, where each comes from, and what it provides."""
    config = _config(config_path)
    toolkit = _toolkit(config, plugins_dir)
    infos = toolkit.registries.plugins
    if as_json:
        click.echo(json.dumps([{"name": i.name, "source": i.source, "provides": list(i.provides)} for i in infos], indent=2))
        return
    table = Table(title="plugins")
    for column in ("plugin", "from", "provides"):
        table.add_column(column, overflow="fold")
    for info in infos:
        provides = _summarise(info.provides)
        table.add_row(info.name, info.source, provides)
    Console().print(table)


def _summarise(provides: tuple[str, ...]) -> str:
    groups: dict[str, list[str]] = {}
    for item in provides:
        kind, _, name = item.rpartition(" ")
        groups.setdefault(kind, []).append(name)
    return "; ".join(f"{kind}s: {', '.join(names)}" for kind, names in groups.items()) or "(hooks only)"
