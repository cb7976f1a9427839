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


def _walk(command: click.Command, path: list[str], parent: click.Context | None, out: list[str]) -> None:
    # Contexts made the way an invocation makes them (context settings, inherited help option
    # names), so the text is exactly what `--help` prints. Click caches a command's help option
    # the first time it is built; drop that cache so nothing run before in this process matters.
    command._help_option = None  # type: ignore[attr-defined]
    ctx = command.make_context(path[-1], [], parent=parent, resilient_parsing=True, terminal_width=100, max_content_width=100)
    level = "#" * min(len(path) + 1, 4)
    out.append(f"\n{level} `{' '.join(path)}`\n\n```text\n{command.get_help(ctx)}\n```\n")
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                _walk(sub, path + [name], ctx, out)


def render_cli_reference() -> str:
    out = [HEADER]
    _walk(main, ["rules-engine"], None, out)
    return "".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render_cli_reference(), end="")
