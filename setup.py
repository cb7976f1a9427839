"""Builds the compiled core (rules_engine/_compiled.py) when Cython and a C compiler are there.

Everything else about the package is in pyproject.toml. A failed compilation is a warning, not an
error: the package then runs as pure Python. ``RULES_ENGINE_PURE_PYTHON=1`` skips compiling.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def _load_compiled_module():
    """rules_engine/_compiled.py (standard library only), loaded without importing the package."""
    spec = importlib.util.spec_from_file_location("_rules_engine_compiled", ROOT / "rules_engine" / "_compiled.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


compiled = _load_compiled_module()


def source_of(module: str) -> str:
    return str(compiled.source_path(module).relative_to(ROOT))


def extensions() -> list:
    if compiled.pure_requested():
        print(f"{compiled.PURE_ENV} is set: not compiling the core")
        return []
    try:
        from Cython.Build import cythonize
        from setuptools import Extension
    except ImportError:
        print("Cython is not installed: not compiling the core (the package runs as pure Python)")
        return []
    modules = [Extension(module, [source_of(module)]) for module in compiled.MODULES]
    return cythonize(
        modules,
        build_dir="build/cython",
        # the modules are plain Python: annotations stay annotations, never C types
        compiler_directives={"language_level": 3, "annotation_typing": False, "binding": True},
        quiet=True,
        nthreads=os.cpu_count() or 1,
    )


class OptionalBuildExt(build_ext):
    """Compiles what it can, and records the source digest of each module it compiled."""

    def run(self) -> None:
        self.built: dict[str, str] = {}
        try:
            super().run()
        except Exception as exc:  # no compiler at all
            print(f"WARNING: the compiled core was not built ({exc}); the package runs as pure Python")
        self._write_manifest()

    def build_extension(self, ext) -> None:
        if self.compiler.compiler_type == "unix":
            # generated C: its warnings are Cython's, not ours; no debug information (a third of the size)
            ext.extra_compile_args = [*ext.extra_compile_args, "-w", "-g0"]
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"WARNING: {ext.name} was not compiled ({exc}); it runs as pure Python")
            return
        self.built[ext.name] = compiled.source_digest(compiled.source_path(ext.name))

    def _write_manifest(self) -> None:
        if not self.extensions:
            return
        package_dir = Path(self.get_ext_fullpath("rules_engine.x")).parent
        package_dir.mkdir(parents=True, exist_ok=True)
        manifest = package_dir / compiled.MANIFEST
        previous = {}
        if manifest.exists():
            try:
                previous = json.loads(manifest.read_text(encoding="utf-8"))
            except ValueError:
                previous = {}
        previous.update(self.built)
        manifest.write_text(json.dumps(previous, indent=1, sort_keys=True) + "\n", encoding="utf-8")


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt},
      options={"build_ext": {"parallel": os.cpu_count() or 1}})
