"""The compiled core: which modules run compiled, and a stale build never runs old code."""

from __future__ import annotations

import importlib.machinery
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

import rules_engine
from rules_engine import _compiled
from rules_engine._compiled import MANIFEST, MODULES, PURE_ENV, installed, source_digest, source_path, status
from rules_engine.cli import main

PACKAGE = Path(rules_engine.__file__).parent
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def fake_build(root: Path) -> Path:
    """A package directory holding every compiled module's source, an (empty) extension file
    beside each, and the build record of those sources."""
    package = root / "rules_engine"
    for module in MODULES:
        source = source_path(module, package)
        source.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_path(module), source)
        source.with_suffix(SUFFIX).write_bytes(b"")
    (package / MANIFEST).write_text(json.dumps({module: source_digest(source_path(module, package)) for module in MODULES}))
    return package


def test_every_listed_module_is_a_module_of_the_package() -> None:
    assert len(set(MODULES)) == len(MODULES) and list(MODULES) == sorted(MODULES)
    for module in MODULES:
        assert source_path(module).is_file(), module


def test_a_build_of_the_current_sources_runs_compiled(tmp_path: Path) -> None:
    package = fake_build(tmp_path)
    found = status(package, environ={})
    assert found.compiled == MODULES and found.pure == {}
    assert found.summary == f"compiled core ({len(MODULES)} modules)"


def test_an_edited_source_runs_from_source_and_the_others_stay_compiled(tmp_path: Path) -> None:
    package = fake_build(tmp_path)
    edited = source_path("rules_engine.pipeline.match", package)
    edited.write_text(edited.read_text() + "\n# edited after the build\n")
    found = status(package, environ={})
    assert found.pure == {"rules_engine.pipeline.match": "source changed since the build"}
    assert len(found.compiled) == len(MODULES) - 1
    assert "1 run from source: rules_engine.pipeline.match" in found.summary


def test_missing_extensions_and_build_records_are_told_apart(tmp_path: Path) -> None:
    package = fake_build(tmp_path)
    source_path("rules_engine.engine", package).with_suffix(SUFFIX).unlink()
    record = json.loads((package / MANIFEST).read_text())
    del record["rules_engine.hotpath"]
    (package / MANIFEST).write_text(json.dumps(record))
    found = status(package, environ={})
    assert found.pure == {"rules_engine.engine": "not compiled", "rules_engine.hotpath": "not in the build record"}
    (package / MANIFEST).unlink()
    assert set(status(package, environ={}).pure.values()) == {"not compiled", "not in the build record"}


def test_pure_python_on_request(tmp_path: Path) -> None:
    package = fake_build(tmp_path)
    for value in ("1", "yes", "TRUE", " on "):
        found = status(package, environ={PURE_ENV: value})
        assert found.compiled == () and set(found.pure.values()) == {f"{PURE_ENV} is set"}
        assert found.summary == f"pure Python ({PURE_ENV} is set)"
    assert status(package, environ={PURE_ENV: "0"}).compiled == MODULES


def test_nothing_compiled_reads_as_pure_python(tmp_path: Path) -> None:
    package = tmp_path / "rules_engine"
    package.mkdir()
    assert status(package, environ={}).summary == "pure Python (not compiled)"


def _imported_files(pythonpath: Path, environ: dict[str, str], modules: list[str]) -> dict[str, str]:
    code = "import importlib, json, sys; print(json.dumps({m: importlib.import_module(m).__file__ for m in sys.argv[1:]}))"
    env = {**os.environ, "PYTHONPATH": str(pythonpath), **environ}
    if PURE_ENV not in environ:
        env.pop(PURE_ENV, None)
    done = subprocess.run([sys.executable, "-c", code, *modules], env=env, cwd=pythonpath, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_stale_extension_is_never_imported(tmp_path: Path) -> None:
    """A real import, in a copy of the installed package whose match.py changed after the build."""
    copy = tmp_path / "rules_engine"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    edited = source_path("rules_engine.pipeline.match", copy)
    edited.write_text(edited.read_text() + "\nEDITED_AFTER_THE_BUILD = True\n")
    files = _imported_files(tmp_path, {}, ["rules_engine.pipeline.match", "rules_engine.engine"])
    assert files["rules_engine.pipeline.match"] == str(edited)
    engine_compiled = "rules_engine.engine" in status(copy, environ={}).compiled
    assert files["rules_engine.engine"].endswith(SUFFIX if engine_compiled else ".py")
    assert engine_compiled == ("rules_engine.engine" in status(PACKAGE, environ={}).compiled)


def test_pure_python_imports_every_module_from_source(tmp_path: Path) -> None:
    files = _imported_files(PACKAGE.parent, {PURE_ENV: "1"}, list(MODULES))
    assert all(file.endswith(".py") for file in files.values()), files


def test_the_compiled_modules_are_the_ones_imported() -> None:
    for module in installed().compiled:
        assert sys.modules.get(module) is None or sys.modules[module].__file__.endswith(SUFFIX), module


def _c_compiler() -> str | None:
    command = shlex.split(sysconfig.get_config_var("CC") or "cc")
    return shutil.which(command[0]) if command else None


def test_this_checkout_runs_compiled_where_a_compiler_is() -> None:
    """``make test`` compiles first; a plain ``pytest`` after an edit to a compiled module runs that
    module from source, correctly but slower, and this test says so."""
    if _compiled.pure_requested():
        assert installed().compiled == ()
        return
    if _c_compiler() is None:
        pytest.skip("no C compiler here: the package runs as pure Python")
    assert installed().pure == {}, f"{installed().summary}: run `make compile`"


def test_version_names_the_build() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"rules-engine {rules_engine.__version__}, {installed().summary}"


def test_a_build_without_a_c_compiler_leaves_a_pure_python_package(tmp_path: Path) -> None:
    """setup.py with a compiler that fails: a warning per module, success, and nothing stale left."""
    root = Path(__file__).resolve().parents[1]
    shutil.copy2(root / "setup.py", tmp_path)
    shutil.copy2(root / "pyproject.toml", tmp_path)
    shutil.copy2(root / "README.md", tmp_path)
    shutil.copytree(PACKAGE, tmp_path / "rules_engine", ignore=shutil.ignore_patterns("__pycache__", "*.so", MANIFEST))
    if (root / "build" / "cython").is_dir():  # generated C of the same sources: Cython does not run again
        shutil.copytree(root / "build" / "cython", tmp_path / "build" / "cython")
    env = {**os.environ, "CC": "false", "LDSHARED": "false"}
    env.pop(PURE_ENV, None)
    done = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("was not compiled") == len(MODULES), done.stdout[-2000:]
    package = tmp_path / "rules_engine"
    assert not list(package.rglob("*.so"))
    assert json.loads((package / MANIFEST).read_text()) == {}
    assert status(package, environ={}).summary == "pure Python (not compiled)"
