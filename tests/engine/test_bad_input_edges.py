"""Input at the edges: overflowing durations and row numbers, another application's database,
and a duplicated secret: each a clear error, never a traceback or a leaked value."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from rules_engine.cli import main
from rules_engine.config import load_config
from rules_engine.durations import parse_duration
from rules_engine.errors import ConfigError, LedgerError
from rules_engine.ledger.store import Ledger


@pytest.mark.parametrize(("value", "message"), [
    (float("inf"), "cannot be longer than 1000 years"),
    ("99999999999999999999d", "cannot be longer than 1000 years"),
    (10**30, "cannot be longer than 1000 years"),
    (float("nan"), "must be a number of seconds"),
    ("-5m", "cannot be negative"),
    (-5, "cannot be negative"),
])
def test_durations_out_of_range_are_refused_with_the_reason(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(value)


def test_the_longest_duration_still_works_with_dates() -> None:
    from datetime import datetime, timezone

    from rules_engine.durations import _LONGEST

    longest = parse_duration(_LONGEST)  # the boundary itself is accepted...
    assert datetime.now(timezone.utc) + longest > datetime(3000, 1, 1, tzinfo=timezone.utc)
    weeks = int(_LONGEST // 604800)
    assert parse_duration(f"{weeks}w") <= longest
    with pytest.raises(ValueError, match=rf"longer than 1000 years \({weeks}w\)"):  # ...and the text names it
        parse_duration(f"{weeks + 1}w")


def config_error(tmp_path: Path, text: str) -> str:
    """The error of loading ``text`` as an engine config (the test fails if it loads)."""
    path = tmp_path / "engine.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    return str(refused.value)


def test_an_infinite_overlap_in_the_config_is_located_not_a_traceback(tmp_path: Path) -> None:
    error = config_error(tmp_path, "app_tokens:\n  plant:\n    token: 9a3e51c07b22d4f68e15\n    overlap: .inf\n")
    assert "engine.yaml:4:14: app_tokens.plant.overlap: a duration cannot be longer" in error


def test_a_duplicated_password_is_reported_without_its_values(tmp_path: Path) -> None:
    error = config_error(tmp_path, "conductor:\n  username: ops\n  password: hunter2secret\n  password: hunter3secret\n")
    assert "engine.yaml:4:3: duplicate key 'password': each key may appear once" in error
    assert "hunter" not in error


def _foreign_database(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    connection.execute("INSERT INTO customers (name) VALUES ('acme')")
    connection.commit()
    connection.close()


def test_another_applications_database_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    _foreign_database(path)
    with pytest.raises(LedgerError, match=r"crm.db is not a rules-engine ledger: it holds other tables \(customers\)"):
        Ledger.open_writer(path)
    connection = sqlite3.connect(path)
    assert connection.execute("SELECT name FROM sqlite_master").fetchall() == [("customers",)]
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    connection.close()
    # the lock was released: a second attempt says the same, not "in use by another process"
    with pytest.raises(LedgerError, match="is not a rules-engine ledger"):
        Ledger.open_writer(path)


def test_readers_tell_a_foreign_database_and_an_empty_one_apart(tmp_path: Path) -> None:
    foreign, empty = tmp_path / "crm.db", tmp_path / "empty.db"
    _foreign_database(foreign)
    empty.write_bytes(b"")
    runner = CliRunner()
    result = runner.invoke(main, ["ledger", "--ledger", str(foreign), "summary"])
    assert result.exit_code == 1 and "is not a rules-engine ledger" in result.output
    assert "migrate" not in result.output  # the old advice would have had the daemon write into it
    result = runner.invoke(main, ["ledger", "--ledger", str(empty), "summary"])
    assert result.exit_code == 1 and "holds no ledger yet (an empty database)" in result.output
    # an empty database is a fine place to start a ledger
    Ledger.open_writer(empty).close()
    assert runner.invoke(main, ["ledger", "--ledger", str(empty), "summary"]).exit_code == 0


@pytest.mark.parametrize("arguments", [
    ["uplinks", "--limit", "99999999999999999999"],
    ["uplinks", "--limit", "-1"],
    ["firings", "--limit", "-5"],
    ["firing", "99999999999999999999"],
    ["send", "--", "-3"],
])
def test_row_numbers_out_of_range_are_usage_errors(tmp_path: Path, arguments: list[str]) -> None:
    Ledger.open_writer(tmp_path / "ledger.db").close()
    result = CliRunner().invoke(main, ["ledger", "--ledger", str(tmp_path / "ledger.db"), *arguments])
    assert result.exit_code == 2 and result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "is not in the range" in result.output


def test_decoder_ports_must_be_conductor_ports(tmp_path: Path) -> None:
    error = config_error(tmp_path, "app_tokens:\n  plant:\n    token: 9a3e51c07b22d4f68e15\n    ports:\n"
                                   "      7: ack\n      70000: ack\n      8: ack\n      -1: ack\n")
    assert ("engine.yaml:6:7: app_tokens.plant.ports: key '70000': not a Conductor port (ports are 0 to 255); "
            "nor is -1") in error, error
    path = tmp_path / "engine.yaml"
    path.write_text("app_tokens:\n  plant:\n    token: 9a3e51c07b22d4f68e15\n    ports: {0: ack, 255: ack}\n")
    assert set(load_config(path).app_tokens["plant"].ports) == {0, 255}


def test_one_apptoken_under_two_aliases_is_refused_at_the_second(tmp_path: Path) -> None:
    error = config_error(tmp_path, "app_tokens:\n  plant: {token: 9a3e51c07b22d4f68e15}\n  yard: {token: 9A3E51C07B22D4F68E15}\n")
    assert "engine.yaml:3:17: app_tokens.yard.token: the same AppToken as 'plant'" in error


def test_a_plugins_dir_that_is_a_file_or_missing_is_named_at_its_line(tmp_path: Path) -> None:
    from rules_engine.errors import PluginError
    from rules_engine.toolkit import Toolkit

    path = tmp_path / "engine.yaml"
    for target, what in ((path, "is a file, not a directory"), (tmp_path / "nowhere", "does not exist")):
        path.write_text(f"app_tokens: {{plant: {{token: 9a3e51c07b22d4f68e15}}}}\nplugins_dir: {target}\n")
        with pytest.raises(PluginError, match=rf"engine.yaml:2:14: plugins_dir: {target} {what}"):
            Toolkit.create(load_config(path))


def test_a_ledger_path_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match=r"is a directory; name the ledger's file"):
        Ledger.open_writer(tmp_path)
    config = tmp_path / "engine.yaml"
    config.write_text(f"app_tokens: {{plant: {{token: 9a3e51c07b22d4f68e15}}}}\nledger: {{path: {tmp_path}}}\n")
    result = CliRunner().invoke(main, ["ledger", "--config", str(config), "summary"])
    assert result.exit_code == 1 and f"the ledger path {tmp_path} is a directory, not a ledger file" in result.output


def test_a_bad_mapping_key_is_pointed_at_as_a_key(tmp_path: Path) -> None:
    error = config_error(tmp_path, "app_tokens:\n  plant:\n    token: 9a3e51c07b22d4f68e15\n    ports: {seven: ack}\n"
                                   "ledger: {path: 42}\n")
    assert "engine.yaml:4:13: app_tokens.plant.ports: key 'seven': expected a whole number, got 'seven'" in error
    assert "engine.yaml:5:16: ledger.path: expected a file path (text), got 42" in error
    assert "[key]" not in error and "pathlib" not in error


def test_a_yaml_error_names_where_the_unclosed_construct_starts(tmp_path: Path) -> None:
    error = config_error(tmp_path, 'conductor:\n  username: "ops@example.com\n  password_env: X\napp_tokens: {}\n')
    assert "YAML syntax error: found unexpected end of stream (scanning a quoted scalar that starts at line 2, column 13)" in error


def test_a_first_start_that_stopped_before_its_first_migration_is_not_foreign(tmp_path: Path) -> None:
    """sqlite-utils commits its record table before the first migration runs: a daemon killed in
    between leaves only that table, and the next start must carry on."""
    from sqlite_utils import Database

    from rules_engine.ledger.migrations import migrations

    path = tmp_path / "ledger.db"
    migrations.ensure_migrations_table(Database(path))
    assert Database(path).table_names() == [migrations.migrations_table]
    result = CliRunner().invoke(main, ["ledger", "--ledger", str(path), "summary"])
    assert result.exit_code == 1 and "holds no ledger yet" in result.output
    ledger = Ledger.open_writer(path)
    assert "uplinks" in ledger.db.table_names()
    ledger.close()


def test_failed_opens_leave_no_file_open(tmp_path: Path) -> None:
    import os

    foreign, junk = tmp_path / "crm.db", tmp_path / "junk.db"
    _foreign_database(foreign)
    junk.write_text("not a database at all, just text " * 100)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        for path in (foreign, junk):
            for opening in (Ledger.open_writer, Ledger.open_reader):
                with pytest.raises(LedgerError):
                    opening(path)
    assert len(os.listdir("/proc/self/fd")) == before
    assert not (tmp_path / "crm.db.lock").exists()  # the foreign database got no lock file beside it
