"""``rules-engine init DIR``: a working starting point (config, one rule with its tests, plugins)."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["scaffold", "SCAFFOLD"]

SCAFFOLD = Path(__file__).parent / "scaffold"


def scaffold(target: Path, *, force: bool = False) -> list[Path]:
    """Copy the scaffold into ``target``; refuses to overwrite existing files unless ``force``."""
    files = [p for p in sorted(SCAFFOLD.rglob("*")) if p.is_file()]
    destinations = [target / p.relative_to(SCAFFOLD) for p in files]
    existing = [d for d in destinations if d.exists()]
    if existing and not force:
        raise FileExistsError(", ".join(str(d) for d in existing))
    for source, destination in zip(files, destinations):
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    (target / "state").mkdir(exist_ok=True)
    return destinations
