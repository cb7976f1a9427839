"""Generate docs/cli.md from the commands' own ``--help``, so the reference cannot go stale:

    python -m rules_engine.clidoc > docs/cli.md       (a test checks the file is current)
"""

from __future__ import annotations

import click

from .cli import main

__all__ = ["render_cli_reference"]

HEADER = """# Command-line reference

Generated from `--help` by `python -m rules_engine.clidoc > docs/cli.md`; a test fails when this
page and the commands disagree.
"""


def _help(command: click.Command, path: list[str]) -> str:
    with click.Context(command, info_name=" ".join(path), terminal_width=100, max_content_width=100) as ctx:
        return command.get_help(ctx)


def _walk(command: click.Command, path: list[str], out: list[str]) -> None:
    level = "#" * min(len(path) + 1, 4)
    out.append(f"\n{level} `{' '.join(path)}`\n\n```text\n{_help(command, path)}\n```\n")
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(click.Context(command))):
            sub = command.get_command(click.Context(command), name)
            if sub is not None and not sub.hidden:
                _walk(sub, path + [name], out)


def render_cli_reference() -> str:
    out = [HEADER]
    _walk(main, ["rules-engine"], out)
    return "".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render_cli_reference(), end="")
