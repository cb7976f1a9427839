"""The compiled core: the per-uplink modules, built by Cython from their unchanged ``.py`` source.

``setup.py`` compiles the modules in :data:`MODULES` when Cython and a C compiler are there (about
9% fewer instructions per uplink; see docs/architecture.md, "Compiled core") and records the
SHA-256 of each source it compiled in ``_compiled.json`` beside this file. Without a compiler the
build goes on and the package runs as pure Python, with the same behaviour.

A compiled module is used only while its source is the one it was built from. Python prefers an
extension module to the ``.py`` beside it, so a checkout whose ``.py`` changed after the build
(an edit, a ``git pull``) would otherwise run the old code: :func:`install`, run when the package
is imported, sends the import of each such module to its source instead. It does the same for every
module when ``RULES_ENGINE_PURE_PYTHON`` is set (to ``1``, ``yes``, ``true``), which profilers and
debuggers that step through Python frames need.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

__all__ = ["MODULES", "PURE_ENV", "CompiledStatus", "install", "installed", "status"]

# setup.py loads this file on its own (standard library only) to know what to compile.
MODULES = (
    "rules_engine.acks.matcher",
    "rules_engine.conditions.closures",
    "rules_engine.conditions.jsvalues",
    "rules_engine.conditions.std_compare",
    "rules_engine.conditions.std_data",
    "rules_engine.conditions.std_logic",
    "rules_engine.conductor._uplink_page",
    "rules_engine.conductor._wire",
    "rules_engine.engine",
    "rules_engine.hotpath",
    "rules_engine.jsonfast",
    "rules_engine.ledger._batches",
    "rules_engine.ledger.records",
    "rules_engine.ledger.state",
    "rules_engine.ledger.store",
    "rules_engine.pipeline.context",
    "rules_engine.pipeline.decode",
    "rules_engine.pipeline.dedupe",
    "rules_engine.pipeline.match",
    "rules_engine.pipeline.modifiers",
    "rules_engine.pipeline.outbox",
    "rules_engine.rules.guards",
    "rules_engine.rules.index",
)

PURE_ENV = "RULES_ENGINE_PURE_PYTHON"
MANIFEST = "_compiled.json"
_PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class CompiledStatus:
    """Which of :data:`MODULES` run compiled, and why the others do not."""

    compiled: tuple[str, ...]
    pure: dict[str, str]  # module -> reason

    @property
    def summary(self) -> str:
        if not self.pure:
            return f"compiled core ({len(self.compiled)} modules)"
        if not self.compiled:
            reasons = sorted(set(self.pure.values()))
            return f"pure Python ({'; '.join(reasons)})"
        return f"partly compiled ({len(self.compiled)} of {len(MODULES)} modules; {len(self.pure)} run from source: " \
               f"{', '.join(sorted(self.pure))})"


def source_path(module: str, package_dir: Path = _PACKAGE) -> Path:
    """``rules_engine.pipeline.match`` -> ``<package_dir>/pipeline/match.py``."""
    return package_dir.joinpath(*module.split(".")[1:]).with_suffix(".py")


def source_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _extension_path(module: str, package_dir: Path) -> Path | None:
    source = source_path(module, package_dir)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = source.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def pure_requested(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(PURE_ENV, "").strip().lower() in ("1", "yes", "true", "on")


def status(package_dir: Path = _PACKAGE, environ: Mapping[str, str] = os.environ) -> CompiledStatus:
    """What each of :data:`MODULES` would be imported as, in ``package_dir`` under ``environ``."""
    try:
        built: dict[str, str] = json.loads((package_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        built = {}
    forced = pure_requested(environ)
    compiled: list[str] = []
    pure: dict[str, str] = {}
    for module in MODULES:
        if _extension_path(module, package_dir) is None:
            pure[module] = "not compiled"
        elif forced:
            pure[module] = f"{PURE_ENV} is set"
        elif module not in built:
            pure[module] = "not in the build record"
        elif built[module] != _digest_or_none(source_path(module, package_dir)):
            pure[module] = "source changed since the build"
        else:
            compiled.append(module)
    return CompiledStatus(tuple(compiled), pure)


def _digest_or_none(path: Path) -> str | None:
    try:
        return source_digest(path)
    except OSError:
        return None


class _SourceFirst:
    """A meta path finder that imports the listed modules from their ``.py`` source."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources

    def find_spec(self, name: str, path: Sequence[str] | None = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        source = self.sources.get(name)
        if source is None or not source.exists():
            return None
        return importlib.util.spec_from_file_location(name, source)


_installed: CompiledStatus | None = None


def installed() -> CompiledStatus:
    """The status :func:`install` found when the package was imported (what this process runs)."""
    return _installed if _installed is not None else status()


def install(package_dir: Path = _PACKAGE) -> CompiledStatus:
    """Route the import of every module that is not to run compiled to its source; once."""
    global _installed
    current = status(package_dir)
    if package_dir == _PACKAGE:
        _installed = current
    stale = {module: source_path(module, package_dir) for module, reason in current.pure.items() if reason != "not compiled"}
    if stale and not any(isinstance(finder, _SourceFirst) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SourceFirst(stale))  # type: ignore[arg-type]
    return current
