"""``python -m rules_engine`` is the ``rules-engine`` command."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main(prog_name="rules-engine")
