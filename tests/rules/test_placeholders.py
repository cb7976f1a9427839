"""``{placeholder}`` paths in action texts are checked against the context of the rule's trigger
(rules/placeholders.py): a typo is reported with its file and line instead of rendering as null."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from rules_engine.conductor.models import SymphonySignal, Uplink
from rules_engine.config import load_config
from rules_engine.models import DecodedUplink, ScheduleEvent, SendEvent, SilenceEvent, UplinkEvent
from rules_engine.pipeline.context import build_context
from rules_engine.rules.loader import load_rules
from rules_engine.rules.placeholders import CONTEXT, OPEN
from rules_engine.state import MemoryStateStore
from rules_engine.toolkit import Toolkit

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


def _events() -> dict[str, object]:
    uplink = Uplink(uuid="u1", time=NOW, module="$301$0-0-0-030000001", gateway="$101$0-0-0-db9be5bb2", port=1,
                    payload=b"\x01", app_token="9a3e51c07b22d4f68e15", signal=SymphonySignal(sf=9, rssi=-90))
    return {
        "uplink": UplinkEvent(item=DecodedUplink(uplink=uplink, decoder="env", decoded={"temperature": 21})),
        "silence": SilenceEvent(module=uplink.module, app_token=uplink.app_token, gateway=uplink.gateway,
                                last_seen=NOW - timedelta(hours=1), time=NOW),
        "schedule": ScheduleEvent(rule_id="nightly", time=NOW),
        "send": SendEvent(send_id="7", rule_id="tracked", outcome="partial", time=NOW, details={"acked": 3, "expected": 4}),
    }


@pytest.mark.parametrize("kind", sorted(CONTEXT))
def test_the_table_is_the_context_the_engine_builds(kind: str) -> None:
    store = MemoryStateStore()
    store.record_uplink("$301$0-0-0-030000001", "9a3e51c07b22d4f68e15", "$101$0-0-0-db9be5bb2", NOW - timedelta(hours=1))
    context = build_context(_events()[kind], store)  # type: ignore[arg-type]
    context["rule"] = {"id": "r"}  # the matcher adds it per rule
    table = CONTEXT[kind]
    assert set(context) == set(table) - ({"send"} if kind != "send" else set())  # ``send``: while a tracked send is planned
    for root, value in context.items():
        if table[root] is not OPEN and isinstance(value, dict):
            assert set(value) == set(table[root]), root


def _problems(tmp_path: Path, actions: str, trigger: str = "uplink: {app_token: plant}") -> list[str]:
    toolkit = Toolkit.create(load_config(ROOT / "engine.yaml"), plugins_dir=ROOT / "plugins")
    (tmp_path / "r.yaml").write_text(f"rules:\n  - id: r\n    trigger: {{{trigger}}}\n    actions:\n{actions}")
    return [str(problem) for problem in load_rules([tmp_path / "r.yaml"], toolkit).problems]


def test_a_misspelt_field_is_an_error_with_the_line_and_a_suggestion(tmp_path: Path) -> None:
    found = _problems(tmp_path, '      - log: {message: "from {uplink.modle}"}\n'
                                '      - webhook: {url: "https://x.example/{rule.idd}", headers: {X-At: "{nwo}"}}\n')
    assert any(":5:" in p and "actions[0].log.message: {uplink.modle}: 'uplink' has no field 'modle' (did you mean 'module'?)" in p
               for p in found), found
    assert any(":6:" in p and "actions[1].webhook.url: {rule.idd}" in p and "did you mean 'id'" in p for p in found), found
    assert any("warning" in p and "actions[1].webhook.headers.X-At: {nwo}: 'nwo' is not in the context (did you mean 'now'?)" in p
               for p in found), found


def test_a_root_the_trigger_does_not_have_is_an_error(tmp_path: Path) -> None:
    found = _problems(tmp_path, '      - log: {message: "{decoded.temperature} {device.gateway} {silence.for}"}\n',
                      trigger="silence: {after: 10m}")
    assert any("{decoded.temperature}: a silence event has no 'decoded'" in p for p in found), found
    assert not any("{device.gateway}" in p or "{silence.for}" in p for p in found), found


def test_valid_placeholders_escapes_and_undeclared_decoded_fields(tmp_path: Path) -> None:
    ok = '      - log: {message: "{uplink.module} {uplink.signal.rssi} {device.state.mode} {state.x} {now} {{uplink.modle}}"}\n'
    assert _problems(tmp_path, ok) == []
    found = _problems(tmp_path, '      - log: {message: "{decoded.temprature}"}\n')
    assert [p for p in found if "decoded.temprature" in p and "warning" in p and "did you mean 'temperature'" in p], found


def test_condition_vars_are_checked_against_the_trigger_context(tmp_path: Path) -> None:
    toolkit = Toolkit.create(load_config(ROOT / "engine.yaml"), plugins_dir=ROOT / "plugins")
    (tmp_path / "r.yaml").write_text(
        "rules:\n"
        "  - id: typo\n    trigger: {uplink: {app_token: plant}}\n    condition: {'==': [{var: uplink.modle}, x]}\n"
        "    actions: [log: {message: x}]\n"
        "  - id: quiet\n    trigger: {silence: {after: 5m}}\n    condition: {'>': [{var: [decoded.temperature, 0]}, 3]}\n"
        "    actions: [log: {message: x}]\n"
        "  - id: fine\n    trigger: {uplink: {app_token: plant}}\n"
        "    condition: {and: [{var: uplink.signal.rssi}, {some: [{var: device.state.list}, {var: anything}]}, {var: [state.x, 1]}]}\n"
        "    actions: [log: {message: x}]\n")
    problems = [str(p) for p in load_rules([tmp_path / "r.yaml"], toolkit).problems]
    # located at the var's path itself (line 4, column 30), in either form of var
    assert any(":4:30:" in p and "rule 'typo': condition: {\"var\": \"uplink.modle\"}: 'uplink' has no field 'modle' (did you mean 'module'?)" in p
               for p in problems), problems
    assert any(":8:30:" in p and "rule 'quiet'" in p and "a silence event has no 'decoded'" in p for p in problems), problems
    assert not any("rule 'fine'" in p for p in problems), problems


def test_only_the_texts_that_are_rendered_are_checked(tmp_path: Path) -> None:
    """TEMPLATES lists what the built-in actions render: a webhook's JSON constant is sent as
    written (a chat card's own template, say), so its braces are neither rendered nor checked."""
    from rules_engine.pipeline.match import Matcher
    from rules_engine.rules.index import RuleIndex

    toolkit = Toolkit.create(load_config(ROOT / "engine.yaml"), plugins_dir=ROOT / "plugins")
    (tmp_path / "r.yaml").write_text(
        "rules:\n  - id: r\n    trigger: {uplink: {}}\n    actions:\n"
        '      - log: {message: "m {uplink.module}"}\n'
        '      - webhook: {url: "https://x.example/{uplink.module}", headers: {X-M: "{uplink.module}"},'
        ' json: {card: "Device ${device.name} {site.label} {uplink.module}"}}\n')
    ruleset = load_rules([tmp_path / "r.yaml"], toolkit)
    assert not ruleset.problems, [str(p) for p in ruleset.problems]
    event = _events()["uplink"]
    intents = Matcher(RuleIndex(ruleset.rules)).match(event, MemoryStateStore()).firings[0].intents  # type: ignore[arg-type]
    module = event.item.uplink.module  # type: ignore[attr-defined]
    log, webhook = intents[0].params, intents[1].params
    assert log["message"] == f"m {module}"
    assert webhook["url"] == f"https://x.example/{module}" and webhook["headers"] == {"X-M": module}
    assert webhook["json"] == {"card": "Device ${device.name} {site.label} {uplink.module}"}
