"""validate, test and replay as a user runs them: real subprocesses, real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from rules_engine.simulator import decode_env_v1

ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT / "tests" / "fixtures" / "recorded" / "plant-uplinks.jsonl"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rules_engine", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_validate_the_example_rules() -> None:
    result = cli("validate", "rules/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s), 0 warning(s)" in result.stdout


def test_validate_reports_every_problem_and_fails(tmp_path: Path) -> None:
    shutil.copy(ROOT / "engine.yaml", tmp_path / "engine.yaml")
    shutil.copytree(ROOT / "plugins", tmp_path / "plugins")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "good.yaml").write_text("rules:\n  - {id: ok, trigger: {uplink: {}}, actions: [log: {message: x}]}\n")
    (tmp_path / "rules" / "bad.yaml").write_text(textwrap.dedent("""\
        rules:
          - id: one
            trigger: {uplink: {app_token: plnat}}
            actions: [log: {message: x}]
          - id: two
            trigger: {uplink: {}}
            condition: {"<": [{var: decoded.temprature}, 3]}
            actions: [multicats: {}]
    """))
    result = cli("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert "rules/bad.yaml:3:35: rule 'one': trigger.uplink.app_token: unknown AppToken alias 'plnat' (did you mean 'plant'?)" in result.stderr
    assert "rules/bad.yaml:8:15: rule 'two': actions[0]: unknown action 'multicats' (did you mean 'multicast'?)" in result.stderr
    assert "1 rule(s) loaded from 2 file(s); 2 error(s)" in result.stderr


def test_validate_fails_when_there_is_no_rule(tmp_path: Path) -> None:
    """The daemon refuses to start without a rule: validate says so before it does."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "plant.test.yaml").write_text("tests: []\n")  # a test file is not a rule file
    result = cli("validate", str(tmp_path / "rules"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the directory holds no rule file" in result.stdout + result.stderr
    assert "no rule found" in result.stderr
    (tmp_path / "empty.yaml").write_text("rules: []\n")
    result = cli("validate", str(tmp_path / "empty.yaml"))
    assert result.returncode == 1 and "no rule found" in result.stderr, result.stdout + result.stderr


def test_validate_strict_turns_lint_warnings_into_failures(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(textwrap.dedent("""\
        rules:
          - id: trap
            trigger: {uplink: {}}
            condition: {"<": [{var: decoded.temperature}, 30]}
            actions: [log: {message: x}]
    """))
    relaxed = cli("validate", str(tmp_path / "r.yaml"), cwd=tmp_path)
    strict = cli("validate", "--strict", str(tmp_path / "r.yaml"), cwd=tmp_path)
    assert relaxed.returncode == 0 and "warning" in relaxed.stdout and "missing" in relaxed.stdout
    assert strict.returncode == 1


def test_rules_test_passes_on_the_examples() -> None:
    result = cli("test", "rules/")
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith(" passed, 0 failed")


def _rule_test(tmp_path: Path, rule: str, name: str, expect: list[str]) -> subprocess.CompletedProcess[str]:
    """``rules-engine test`` of one rule and one case: one uplink on port 4, then ``expect``."""
    (tmp_path / "r.yaml").write_text(f"rules:\n  - {rule}\n")
    (tmp_path / "r.test.yaml").write_text(
        f"tests:\n  - name: {name}\n    events:\n      - uplink: {{module: \"$301$0-0-0-000000001\", port: 4}}\n"
        "    expect:\n" + "".join(f"      - {item}\n" for item in expect))
    return cli("test", str(tmp_path), cwd=tmp_path)


def test_a_failing_rule_test_prints_a_diff(tmp_path: Path) -> None:
    result = _rule_test(tmp_path, "{id: hot, trigger: {uplink: {}}, condition: {'>': [{var: uplink.port}, 3]}, "
                                  "actions: [multicast: {app_token: 9a3e51c07b22d4f68e15, payload: '01'}]}",
                        "expects the wrong payload", ["{rule: hot, actions: [multicast: {payload_hex: '02'}]}"])
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "expects the wrong payload" in result.stdout
    assert "expected:\n       - rule hot on any event: [{'multicast': {'payload_hex': '02'}}]" in result.stdout
    assert "! rule hot on event 0: multicast {" in result.stdout and "'payload_hex': '01'" in result.stdout
    assert "0 passed, 1 failed" in result.stdout


def test_a_rule_test_that_expects_a_missing_rule_or_event_says_so(tmp_path: Path) -> None:
    result = _rule_test(tmp_path, "{id: hot, trigger: {uplink: {}}, actions: [log: {message: x}]}",
                        "mistakes in the expectation", ["{rule: hto, event: 0}", "{rule: hot, event: 5}"])
    assert result.returncode == 1
    assert "expect[0]: no rule 'hto' is loaded (did you mean 'hot'?)" in result.stdout, result.stdout
    assert "expect[1]: event 5 does not exist: this test has 1 event(s), numbered from 0" in result.stdout, result.stdout


def test_replay_plans_exactly_the_hot_uplinks_and_sends_nothing() -> None:
    result = cli("replay", str(RECORDED), "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    steps = [json.loads(line) for line in result.stdout.splitlines()]
    planned = {step["uplink"] for step in steps if step["rule"] == "overheat-cooling" and step["action"] == "multicast"}
    hot, armed = set(), {}
    records = sorted((json.loads(line) for line in RECORDED.read_text().splitlines()), key=lambda r: r["time"])
    for record in records:  # the rule's semantics, written out: > 30 fires once, < 28 re-arms, per module
        if record["value"]["portNumber"] != "1":
            continue
        module, celsius = record["value"]["module"], decode_env_v1(record["value"]["pld"]).temperature_c
        if celsius > 30 and armed.get(module, True):
            hot.add(record["uuid"])
            armed[module] = False
        elif celsius < 28:
            armed[module] = True
    assert planned == hot and len(hot) >= 3
    first = next(step for step in steps if step["action"] == "multicast")
    assert first["params"]["gateways"] == [next(json.loads(l)["value"]["gateway"] for l in RECORDED.read_text().splitlines()
                                                 if json.loads(l)["uuid"] == first["uplink"])]
    assert [field["name"] for field in first["payload"]] == ["seq", "command", "setpoint"]


def test_replay_requires_dry_run() -> None:
    result = cli("replay", str(RECORDED))
    assert result.returncode == 2 and "--dry-run" in result.stderr


def test_replay_reports_lines_that_are_not_uplinks(tmp_path: Path) -> None:
    lines = RECORDED.read_text().splitlines()[:3] + ['{"uuid": "x"}', "not json"]
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    result = cli("replay", str(tmp_path / "mixed.jsonl"), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "from 3 uplink(s)" in result.stdout and "2 line(s) skipped" in result.stdout
    assert "mixed.jsonl:4" in result.stdout and "mixed.jsonl:5" in result.stdout


def test_replay_of_a_file_without_any_uplink_fails(tmp_path: Path) -> None:
    """Replaying the wrong file must not look like 'the rules would not fire'."""
    (tmp_path / "wrong.jsonl").write_text('{"uuid": "x"}\nnot json\n')
    for extra in ([], ["--json"]):
        result = cli("replay", str(tmp_path / "wrong.jsonl"), "--dry-run", *extra)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "wrong.jsonl holds no uplink: 2 line(s) skipped; line " in result.stderr, result.stderr
        assert result.stdout == ""
    (tmp_path / "empty.jsonl").write_text("")
    result = cli("replay", str(tmp_path / "empty.jsonl"), "--dry-run")
    assert result.returncode == 1 and "empty.jsonl holds no uplink: 0 line(s) skipped." in result.stderr, result.stderr


def test_validate_without_a_config_says_none_was_read(tmp_path: Path) -> None:
    """The example rules name aliases and plugin operators of ./engine.yaml: run from elsewhere,
    validate says why they fail instead of leaving a cascade of 'unknown alias'."""
    result = cli("validate", str(ROOT / "rules"), cwd=tmp_path)
    assert result.returncode == 1
    assert "unknown AppToken alias 'plant'" in result.stderr
    assert "note: no engine config was read (there is no ./engine.yaml)" in result.stderr and "--config" in result.stderr
    result = cli("validate", str(ROOT / "rules"), "--config", str(ROOT / "engine.yaml"), cwd=tmp_path)
    assert result.returncode == 0 and "no engine config" not in result.stdout + result.stderr


def test_validate_without_rules_says_where_it_looked(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    result = cli("validate", "--config", str(empty), cwd=tmp_path)
    assert result.returncode == 2
    assert f"the config {empty} lists no rules (its 'rules:' is empty or missing)" in result.stderr
    result = cli("validate", cwd=tmp_path)
    assert result.returncode == 2 and "no --config was given, and there is no ./engine.yaml here" in result.stderr
