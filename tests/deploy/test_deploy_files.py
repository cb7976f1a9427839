"""The container, compose and systemd files, checked as far as this machine allows (no Docker
engine, no systemd here): syntax, and that every path and command they reference exists."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from rules_engine.cli import main
from rules_engine.config import load_config
from rules_engine.rules.loader import load_rules
from rules_engine.toolkit import Toolkit

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def dockerfile() -> list[tuple[str, str]]:
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_dockerfile_instructions_are_valid_and_sources_exist() -> None:
    known = {"FROM", "RUN", "COPY", "WORKDIR", "ENV", "EXPOSE", "VOLUME", "USER", "HEALTHCHECK", "ENTRYPOINT", "CMD", "ARG", "LABEL"}
    instructions = dockerfile()
    assert all(name in known for name, _ in instructions), instructions
    for name, argument in instructions:
        if name == "COPY" and not argument.startswith("--from"):
            *sources, _destination = argument.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such path in the build context"


def test_image_runs_as_non_root_with_a_volume_and_a_healthcheck() -> None:
    instructions = dict((name, arg) for name, arg in dockerfile())
    assert instructions["USER"] not in ("root", "0")
    assert "/var/lib/rules-engine" in instructions["VOLUME"]
    health = instructions["HEALTHCHECK"]
    command = json.loads(health.split("CMD", 1)[1].strip())
    assert command[:2] == ["python", "-c"] and "/healthz" in command[2]
    assert json.loads(instructions["ENTRYPOINT"]) == ["rules-engine"]
    cmd = json.loads(instructions["CMD"])
    assert main.make_context("rules-engine", cmd[:1] + ["--help"], resilient_parsing=True)
    assert cmd[0] == "run" and cmd[cmd.index("--config") + 1] == "/etc/rules-engine/engine.yaml"


def test_the_console_script_the_image_runs_exists() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^rules-engine = "rules_engine\.cli:main"$', text, re.M)


def test_compose_file_references_existing_files_and_a_valid_config(tmp_path: Path) -> None:
    compose = YAML(typ="safe").load((DOCKER / "compose.yaml").read_text())
    engine = compose["services"]["engine"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in engine["volumes"] if volume.startswith(".")}
    for target, source in mounts.items():
        assert (DOCKER / source).resolve().exists(), f"{source} (mounted at {target}) does not exist"
    config_source = DOCKER / mounts["/etc/rules-engine/engine.yaml"]
    rules_source = (DOCKER / mounts["/etc/rules-engine/rules"]).resolve()
    config = load_config(config_source)
    assert config.conductor.base_url == "http://simulator:8765" and config.ledger.path == Path("/var/lib/rules-engine/ledger.db")
    toolkit = Toolkit.create(config.model_copy(update={"rules": [rules_source]}), entry_points=False)
    ruleset = load_rules([rules_source], toolkit)
    assert ruleset.rules and not ruleset.errors
    simulator_command = compose["services"]["simulator"]["command"]
    assert main.make_context("rules-engine", list(simulator_command), resilient_parsing=True)
    token = simulator_command[simulator_command.index("--app-token") + 1]
    assert token in {t.token for t in config.app_tokens.values()}


def test_systemd_unit_is_hardened_and_runs_the_daemon() -> None:
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in (DOCKER / "rules-engine.service").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = {}
            continue
        key, _, value = line.partition("=")
        assert current is not None and key and _, f"not a key=value line: {raw!r}"
        sections[current].setdefault(key, []).append(value)
    service = {key: values[-1] for key, values in sections["Service"].items()}
    for key, value in {"NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "User": "rules-engine", "StateDirectory": "rules-engine"}.items():
        assert service[key] == value, key
    assert service["ReadWritePaths"] == "/var/lib/rules-engine"
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/rules-engine") and argv[1] == "run"
    assert main.make_context("rules-engine", argv[1:], resilient_parsing=True)
    assert "$MAINPID" in service["ExecReload"] and "-HUP" in service["ExecReload"]
    assert sections["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.skipif(subprocess.run(["which", "systemd-analyze"], capture_output=True).returncode != 0,
                    reason="systemd-analyze is not installed on this machine (the static checks above still run)")
def test_systemd_analyze_verify(tmp_path: Path) -> None:  # pragma: no cover - only where systemd exists
    result = subprocess.run(["systemd-analyze", "verify", str(DOCKER / "rules-engine.service")], capture_output=True, text=True)
    assert "Unknown" not in result.stderr, result.stderr


def test_python_matches_the_image() -> None:
    instructions = dockerfile()
    bases = [arg.split()[0] for name, arg in instructions if name == "FROM"]
    assert all(base.startswith("python:3.11") for base in bases)
    assert sys.version_info >= (3, 11)


@pytest.mark.parametrize("status", [200, 503])
def test_the_healthcheck_asks_the_configured_admin_port_with_the_token(tmp_path: Path, status: int) -> None:
    """The image's HEALTHCHECK command, run here against an HTTP server on the port the config names."""
    import http.server
    import os
    import threading

    seen: list[tuple[str, str | None]] = []

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            seen.append((self.path, self.headers.get("Authorization")))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        config = tmp_path / "engine.yaml"
        config.write_text(f"admin: {{host: 0.0.0.0, port: {server.server_address[1]}, token_env: HEALTH_TOKEN}}\n")
        command = json.loads(dict(dockerfile())["HEALTHCHECK"].split("CMD", 1)[1].strip())
        env = {**os.environ, "RULES_ENGINE_CONFIG": str(config), "HEALTH_TOKEN": "s3cret"}
        result = subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=60)
        server.shutdown()
    assert seen == [("/healthz", "Bearer s3cret")]
    assert (result.returncode == 0) == (status == 200), result.stderr
