"""Admin HTTP rules, secrets handling and log formats."""

from __future__ import annotations

import io
import json
import re
import logging
from pathlib import Path

import httpx
import pytest

from rules_engine.admin import check_admin_binding, create_admin_app
from rules_engine.config import AdminConfig, ConductorSettings, admin_token, load_config, read_secret
from rules_engine.errors import ConfigError
from rules_engine.logs import JsonFormatter, configure_logging


def test_non_loopback_admin_needs_a_token() -> None:
    check_admin_binding("127.0.0.1", None)
    check_admin_binding("::1", None)
    check_admin_binding("0.0.0.0", "s3cret")
    with pytest.raises(ConfigError, match="not loopback: set an admin token"):
        check_admin_binding("0.0.0.0", None)


async def test_admin_endpoints_and_token() -> None:
    health = {"status": "ok", "app_tokens": {}}
    app = create_admin_app(lambda: health, lambda: b"rules_engine_uplinks_total 3.0\n", token="t0ken")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin") as client:
        assert (await client.get("/healthz")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 401
        ok = await client.get("/healthz", headers={"Authorization": "Bearer t0ken"})
        assert ok.status_code == 200 and ok.json() == health
        health["status"] = "degraded"
        assert (await client.get("/healthz", headers={"Authorization": "Bearer t0ken"})).status_code == 503
        metrics = await client.get("/metrics", headers={"Authorization": "Bearer t0ken"})
        assert metrics.text.startswith("rules_engine_uplinks_total") and "text/plain" in metrics.headers["content-type"]


def test_password_comes_from_env_or_an_owner_only_file(tmp_path: Path) -> None:
    settings = ConductorSettings(username="u", password_env="MY_PW")
    assert settings.password({"MY_PW": "pw"}).get_secret_value() == "pw"
    assert "pw" not in repr(settings.password({"MY_PW": "pw"}))
    with pytest.raises(ConfigError, match="set the environment variable MY_PW"):
        settings.password({})
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    secret.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_secret(secret)
    secret.chmod(0o600)
    assert ConductorSettings(password_file=secret).password({}).get_secret_value() == "from-file"
    token_file = tmp_path / "token"
    token_file.write_text("adm")
    token_file.chmod(0o600)
    assert admin_token(AdminConfig(token_file=token_file), {}) == "adm"
    assert admin_token(AdminConfig(token_env="T"), {"T": "x"}) == "x"
    assert admin_token(AdminConfig(token_env="T"), {}) is None


def test_a_password_in_the_config_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "engine.yaml"
    path.write_text("conductor:\n  username: u\n  password: hunter2\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}:2:3" in str(caught.value) and "password_env" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_config_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "engine.yaml"
    path.write_text("app_tokens:\n  plant: {token: 9a3e51c07b22d4f68e15, pol_interval: 5s}\nledgr: {}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "unknown key 'pol_interval' (did you mean 'poll_interval'?)" in message
    assert f"{path}:3:1: unknown key 'ledgr' (did you mean 'ledger'?)" in message


def test_json_logs_carry_the_structured_fields() -> None:
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    logging.getLogger("rules_engine.dispatch").info("action sent", extra={"rule_id": "r1", "intent": "r1|u|0", "send_id": "42"})
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["message"] == "action sent" and entry["level"] == "info"
    assert (entry["rule_id"], entry["intent"], entry["send_id"]) == ("r1", "r1|u|0", "42")
    configure_logging("text", "info", stream)
    logging.getLogger("rules_engine.engine").warning("poll failed", extra={"app_token": "plant"})
    assert stream.getvalue().splitlines()[-1].endswith("poll failed  app_token=plant")
    assert isinstance(JsonFormatter(), logging.Formatter)
    logging.getLogger().handlers.clear()


def test_the_admin_web_server_adds_no_colour_codes_and_no_start_banner() -> None:
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.info("Uvicorn running on %s (Press CTRL+C to quit)", "http://127.0.0.1:1")  # a daemon has no CTRL+C
    uvicorn_log.error("an error", extra={"color_message": "\x1b[31man error\x1b[0m"})
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [entry["message"] for entry in entries] == ["an error"]
    assert "color_message" not in entries[0]
    logging.getLogger().handlers.clear()



def test_cancelled_jobs_at_shutdown_are_not_logged_as_errors() -> None:
    import asyncio

    stream = io.StringIO()
    configure_logging("text", "info", stream)
    try:
        raise asyncio.CancelledError()
    except asyncio.CancelledError:
        logging.getLogger("apscheduler.executors.default").exception("Job raised an exception")
    try:
        raise RuntimeError("real failure")
    except RuntimeError:
        logging.getLogger("apscheduler.executors.default").exception("Job raised an exception")
    lines = stream.getvalue()
    assert "CancelledError" not in lines and "real failure" in lines
    logging.getLogger().handlers.clear()


def test_uplink_retention_shorter_than_an_overlap_is_refused(tmp_path: Path) -> None:
    """De-duplication recognises re-read uplinks only while the ledger keeps them."""
    path = tmp_path / "engine.yaml"
    token = "9a3e51c07b22d4f68e15"
    path.write_text(f"app_tokens: {{plant: {{token: {token}, overlap: 2m}}}}\nledger: {{retention: {{uplinks: 2m}}}}\n")
    with pytest.raises(ConfigError, match=r"ledger.retention.uplinks: 2m must be longer than the overlap of AppToken 'plant' \(2m\)"):
        load_config(path)
    path.write_text(f"app_tokens: {{plant: {{token: {token}, overlap: 2m}}}}\nledger: {{retention: {{uplinks: 1d}}}}\n")
    assert load_config(path).ledger.retention.uplinks.total_seconds() == 86400


def test_the_retention_error_points_at_the_key_to_fix_and_names_every_token_at_fault(tmp_path: Path) -> None:
    path = tmp_path / "engine.yaml"
    tokens = ("app_tokens:\n"
              "  plant: {token: 9a3e51c07b22d4f68e15, overlap: 40d}\n"
              "  yard:\n    token: 9a3e51c07b22d4f68e16\n    overlap: 45d\n"
              "  dock: {token: 9a3e51c07b22d4f68e17}\n")
    # the file shortened the retention: the error is at that key, and names both tokens
    path.write_text(tokens + "ledger:\n  retention:\n    uplinks: 40d\n")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    (line,) = [text.strip() for text in str(refused.value).splitlines()[1:]]
    assert line.startswith(f"{path}:9:14: ledger.retention.uplinks: 40d must be longer than the overlap of "
                           "AppTokens 'plant' (40d), 'yard' (45d):"), line
    # the retention is the default (30 days): the error is at the first overlap that exceeds it
    path.write_text(tokens)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    (line,) = [text.strip() for text in str(refused.value).splitlines()[1:]]
    assert line.startswith(f"{path}:2:49: app_tokens.plant.overlap: 40d must be shorter than ledger.retention.uplinks "
                           "(30d) (as must the overlap of 'yard'):"), line


def test_unknown_decoders_in_the_config_are_all_reported_with_their_lines(tmp_path: Path) -> None:
    from rules_engine.toolkit import Toolkit

    path = tmp_path / "engine.yaml"
    path.write_text("app_tokens:\n"
                    "  fleet: {token: 9a3e51c07b22d4f68e15, decoder: hexx}\n"
                    "  other:\n    token: 9a3e51c07b22d4f68e16\n    ports: {3: nope}\n"
                    "decoders:\n  env: {type: struct, fields: [{name: t, type: u8}]}\n")
    with pytest.raises(ConfigError) as raised:
        Toolkit.create(load_config(path), entry_points=False)
    lines = str(raised.value).splitlines()
    assert lines[0] == f"{path}:2:49: app_tokens.fleet.decoder: unknown decoder 'hexx' (did you mean 'hex'?)"
    assert lines[1] == f"{path}:5:16: app_tokens.other.ports.3: unknown decoder 'nope'"
    assert lines[2].startswith("define each under 'decoders:' or use one of ") and "env" in lines[2]
    path.write_text("decoders:\n  env: {type: strukt}\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}:2:15: decoders.env: unknown decoder type 'strukt' \(did you mean 'struct'\?\)"):
        Toolkit.create(load_config(path), entry_points=False)
