"""Plugin discovery: built-ins through the hooks, a plugins directory, an installed entry point,
duplicate names and broken plugins rejected at start-up with the plugin named."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rules_engine import hookimpl
from rules_engine.config import EngineConfig
from rules_engine.errors import PluginError
from rules_engine.plugins import BUILTIN_PLUGINS, create_plugin_manager, load_registries
from rules_engine.toolkit import Toolkit

ROOT = Path(__file__).resolve().parents[2]


def test_builtins_come_through_the_hooks() -> None:
    registries = load_registries(create_plugin_manager(entry_points=False))
    assert set(registries.actions) == {"multicast", "unicast", "webhook", "log", "set_state"}
    assert {"hex", "raw", "utf8", "json", "struct"} <= set(registries.decoders)
    assert {"u8", "i16_be", "float32_le"} <= set(registries.field_types)
    assert {"var", "some", "in", "cat"} <= set(registries.operators)
    assert registries.origin[("action", "multicast")] == "rules_engine.builtin.actions"
    assert {info.name for info in registries.plugins} == set(BUILTIN_PLUGINS)


def test_two_engines_do_not_share_plugins(tmp_path: Path) -> None:
    (tmp_path / "extra.py").write_text(textwrap.dedent("""
        from rules_engine import hookimpl, Operator
        @hookimpl
        def register_operators():
            return [Operator("twice", 1, 1, func=lambda x: x * 2)]
    """))
    with_plugin = Toolkit.create(EngineConfig(), plugins_dir=tmp_path, entry_points=False)
    without = Toolkit.create(EngineConfig(), entry_points=False)
    assert with_plugin.compile_expr({"twice": [21]})({}) == 42
    assert "twice" not in without.operators


def test_duplicate_names_are_rejected_naming_both_plugins(tmp_path: Path) -> None:
    (tmp_path / "my_log.py").write_text(textwrap.dedent("""
        from rules_engine import hookimpl
        import rules_engine.builtin.actions as builtin_actions
        @hookimpl
        def register_actions():
            return [a for a in builtin_actions.register_actions() if a.name == "log"]
    """))
    with pytest.raises(PluginError) as caught:
        load_registries(create_plugin_manager(tmp_path, entry_points=False))
    message = str(caught.value)
    assert "action 'log' is registered twice" in message
    assert "rules_engine.builtin.actions" in message and f"{tmp_path.name}/my_log.py" in message


def test_duplicate_decoder_between_two_local_plugins(tmp_path: Path) -> None:
    for name in ("a_first.py", "b_second.py"):
        (tmp_path / name).write_text(textwrap.dedent("""
            from rules_engine import hookimpl, DecoderType
            from rules_engine.codec import HexDecoder
            @hookimpl
            def register_decoders():
                return [DecoderType("vendor", "x", None, lambda _o: HexDecoder())]
        """))
    with pytest.raises(PluginError, match=r"decoder 'vendor' is registered twice: by plugin '.*a_first.py' and by plugin '.*b_second.py'"):
        load_registries(create_plugin_manager(tmp_path, entry_points=False))


def test_a_plugin_that_fails_to_import_is_named_with_the_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text('"""A plugin."""\nimport this_module_does_not_exist\n')
    with pytest.raises(PluginError, match=r"broken\.py:2: the plugin failed to import: ModuleNotFoundError"):
        create_plugin_manager(tmp_path, entry_points=False)
    (tmp_path / "broken.py").write_text("def helper():\n    return 1 / 0\n\nVALUE = helper()\n")  # the innermost line in the file
    with pytest.raises(PluginError, match=r"broken\.py:2: the plugin failed to import: ZeroDivisionError"):
        create_plugin_manager(tmp_path, entry_points=False)
    (tmp_path / "broken.py").write_text("x = 1\ndef f(:\n")
    with pytest.raises(PluginError, match=r"broken\.py:2: the plugin failed to import: SyntaxError"):
        create_plugin_manager(tmp_path, entry_points=False)


def test_a_hook_that_does_not_exist_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "typo.py").write_text(textwrap.dedent("""
        from rules_engine import hookimpl
        @hookimpl
        def register_action():
            return []
    """))
    with pytest.raises(PluginError, match="register_action"):
        create_plugin_manager(tmp_path, entry_points=False)


def test_a_hook_that_raises_is_named(tmp_path: Path) -> None:
    (tmp_path / "boom.py").write_text(textwrap.dedent("""
        from rules_engine import hookimpl
        @hookimpl
        def register_decoders():
            raise RuntimeError("no licence file")
    """))
    with pytest.raises(PluginError, match=r"boom\.py': register_decoders\(\) raised RuntimeError: no licence file"):
        load_registries(create_plugin_manager(tmp_path, entry_points=False))


def test_missing_plugins_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="does not exist"):
        create_plugin_manager(tmp_path / "nope", entry_points=False)


def test_extra_plugin_objects_register_like_files() -> None:
    class Shout:
        @hookimpl
        def register_operators(self):
            from rules_engine import Operator
            return [Operator("shout", 1, 1, func=lambda s: str(s).upper())]

    toolkit = Toolkit.create(EngineConfig(), entry_points=False, extra_plugins=[("shout", Shout())])
    assert toolkit.compile_expr({"shout": "hi"})({}) == "HI"


@pytest.fixture(scope="module")
def installed_entry_point(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-install the example third-party plugin into a private directory."""
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "entrypoint_plugin"
    shutil.copytree(ROOT / "tests" / "fixtures" / "entrypoint_plugin", source)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        check=True, capture_output=True, text=True, timeout=240,
    )
    return target


def _cli(*args: str, site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "rules_engine", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


def test_entry_point_plugin_is_discovered_and_usable(installed_entry_point: Path, tmp_path: Path) -> None:
    listed = _cli("plugins", "--json", site=installed_entry_point, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    plugins = {p["name"]: p for p in json.loads(listed.stdout)}
    assert plugins["ntfy"]["source"] == "entry point of rules-engine-ntfy 0.1.0"
    assert plugins["ntfy"]["provides"] == ["action ntfy"]
    (tmp_path / "notify.yaml").write_text(textwrap.dedent("""
        rules:
          - id: notify-on-port-9
            trigger: {uplink: {port: 9}}
            actions:
              - ntfy: {topic: ops, message: "port 9 from {uplink.module}"}
    """))
    (tmp_path / "notify.test.yaml").write_text(textwrap.dedent("""
        tests:
          - name: the plugin action is planned like a built-in
            events:
              - uplink: {module: "$301$0-0-0-030001665", port: 9, payload: "00"}
            expect:
              - rule: notify-on-port-9
                actions:
                  - ntfy: {url: "https://ntfy.sh/ops", message: "port 9 from $301$0-0-0-030001665"}
    """))
    tested = _cli("test", "notify.test.yaml", site=installed_entry_point, cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed, 0 failed" in tested.stdout
    without = _cli("validate", "notify.yaml", site=tmp_path, cwd=tmp_path)  # not installed here
    assert without.returncode == 1 and "unknown action 'ntfy'" in without.stderr


def test_plugins_command_lists_local_plugins_with_their_files() -> None:
    result = subprocess.run([sys.executable, "-m", "rules_engine", "plugins", "--json"], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["plugins/acme_tracker.py"]["source"].endswith("plugins/acme_tracker.py")
    assert plugins["plugins/acme_tracker.py"]["provides"] == ["decoder acme-tracker"]
    assert plugins["plugins/geo_operators.py"]["provides"] == ["operator distance_km", "operator inside_box"]
