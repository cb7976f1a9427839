"""``rules-engine test``: run the YAML test cases beside the rules, offline, sending nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from ..config import EngineConfig, load_config
from ..errors import ConfigError, PluginError, RuleError
from ..models import DecodedUplink, Event, ScheduleEvent, SendEvent, SilenceEvent, Uplink, UplinkEvent
from ..pipeline.match import Matcher
from ..rules.index import RuleIndex
from ..state import MemoryStateStore
from .diagnostics import did_you_mean, problems_from_validation
from .loader import TEST_SUFFIXES, load_rules
from .source import load_yaml
from .testfile import ExpectedFiring, TestCase, TestFile

__all__ = ["CaseResult", "run_test_file", "find_test_files", "ActualFiring"]


@dataclass
class ActualFiring:
    rule: str
    event: int
    actions: list[tuple[str, dict[str, Any], str | None]]  # (action, params, error)
    reason: str

    def describe(self) -> str:
        parts = [f"{name} {params}" + (f" [error: {error}]" if error else "") for name, params, error in self.actions]
        return f"rule {self.rule} on event {self.event}: " + ("; ".join(parts) or "no actions")


@dataclass
class CaseResult:
    file: str
    name: str
    passed: bool
    lines: list[str] = field(default_factory=list)
    firings: list[ActualFiring] = field(default_factory=list)


def find_test_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.name.endswith(TEST_SUFFIXES)))
        elif path.name.endswith(TEST_SUFFIXES):
            found.append(path)
        else:
            sibling = path.with_name(path.name.rsplit(".", 1)[0] + ".test.yaml")
            if sibling.exists():
                found.append(sibling)
    return found


def _subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(key in actual and _subset(value, actual[key]) for key, value in expected.items())
    if isinstance(expected, str) and isinstance(actual, str) and expected.upper() == actual.upper():
        return True
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) and not isinstance(expected, bool):
        return expected == actual
    return expected == actual


def _matches(expected: ExpectedFiring, actual: ActualFiring) -> bool:
    if expected.rule != actual.rule or (expected.event is not None and expected.event != actual.event):
        return False
    if expected.actions is None:
        return True
    if len(expected.actions) != len(actual.actions):
        return False
    for wanted, (name, params, _error) in zip(expected.actions, actual.actions):
        ((wanted_name, wanted_params),) = wanted.items()
        if wanted_name != name or not _subset(wanted_params or {}, params):
            return False
    return True


def _case_events(case: TestCase, file_key: str, resolve: Callable[[str | None], str | None]) -> list[Event]:
    events: list[Event] = []
    for index, item in enumerate(case.events):
        at = case.start + (getattr(item.uplink or item.schedule or item.silence or item.send, "at") or timedelta(0))
        if item.uplink is not None:
            up = item.uplink
            uuid = up.uuid or hashlib.sha1(f"{file_key}|{case.name}|{index}".encode()).hexdigest()
            uplink = Uplink(uuid=uuid, time=at, module=up.module, gateway=up.gateway, port=up.port,
                            payload=bytes.fromhex(up.payload), app_token=resolve(up.app_token))
            events.append(UplinkEvent(item=DecodedUplink(uplink=uplink)))
        elif item.schedule is not None:
            events.append(ScheduleEvent(rule_id=item.schedule.rule, time=at))
        elif item.silence is not None:
            events.append(SilenceEvent(module=item.silence.module, app_token=resolve(item.silence.app_token),
                                       last_seen=at, time=at))
        elif item.send is not None:
            events.append(SendEvent(send_id=item.send.send_id, rule_id=item.send.rule, outcome=item.send.outcome,
                                    time=at, details=item.send.details))
    return events


def _failure(path: Path, name: str, lines: list[str]) -> CaseResult:
    return CaseResult(str(path), name, False, lines)


def run_test_file(path: Path, base_config: EngineConfig | None, toolkit_for: Callable[[EngineConfig], Any]) -> list[CaseResult]:
    """Run every case of one test file. ``toolkit_for(config)`` builds (or reuses) a Toolkit."""
    try:
        data, source = load_yaml(path)
        spec = TestFile.model_validate(data)
    except RuleError as exc:
        return [_failure(path, "(file)", [str(exc)])]
    except ValidationError as exc:
        return [_failure(path, "(file)", [str(p) for p in problems_from_validation(exc, TestFile, source)])]
    try:
        if isinstance(spec.config, str):
            config = load_config(path.parent / spec.config)
        elif isinstance(spec.config, dict):
            config = EngineConfig.model_validate(spec.config)
        else:
            config = base_config or EngineConfig()
        toolkit = toolkit_for(config)
    except (ConfigError, PluginError, ValidationError) as exc:
        return [_failure(path, "(config)", [f"{path}: {exc}"])]
    rule_paths = [path.parent / p for p in spec.rules] if spec.rules else [path.with_name(path.name[: -len(".test.yaml")] + ".yaml")]
    ruleset = load_rules(rule_paths, toolkit)
    if ruleset.errors:
        return [_failure(path, "(rules)", ["the rules under test do not load:"] + [f"  {p}" for p in ruleset.errors])]
    results = []
    for case in spec.tests:
        results.append(_run_case(path, case, ruleset.rules, toolkit))
    return results


def _run_case(path: Path, case: TestCase, rules: list[Any], toolkit: Any) -> CaseResult:
    selected = [r for r in rules if case.rules is None or r.id in case.rules]
    unknown = sorted(set(case.rules or ()) - {r.id for r in rules})
    if unknown:
        return _failure(path, case.name, [f"no such rule(s) in the loaded files: {', '.join(unknown)}"])
    store = MemoryStateStore()
    for module, values in case.state.devices.items():
        for key, value in values.items():
            store.set_device_state(module, key, value)
    for key, value in case.state.globals.items():
        store.set_global_state(key, value)
    matcher = Matcher(RuleIndex(selected), toolkit.redecode)

    def resolve(name: str | None) -> str | None:
        if name is None:
            return next(iter(toolkit.config.app_tokens.values())).token if toolkit.config.app_tokens else None
        try:
            return toolkit.config.resolve_app_token(name)
        except KeyError:
            raise ValueError(f"unknown AppToken alias '{name}'") from None

    try:
        events = _case_events(case, str(path), resolve)
    except ValueError as exc:
        return _failure(path, case.name, [str(exc)])
    mistakes = []
    known = {r.id for r in selected}
    for position, expected in enumerate(case.expect):
        if expected.rule not in known:
            mistakes.append(f"expect[{position}]: no rule '{expected.rule}' is loaded{did_you_mean(expected.rule, known)}")
        if expected.event is not None and not 0 <= expected.event < len(events):
            mistakes.append(f"expect[{position}]: event {expected.event} does not exist: this test has {len(events)} "
                            f"event(s), numbered from 0")
    if mistakes:
        return _failure(path, case.name, mistakes)
    actual: list[ActualFiring] = []
    for index, event in enumerate(events):
        if event.kind == "uplink":
            event = UplinkEvent(item=toolkit.decode(event.item.uplink))
        elif event.kind == "silence":
            device = store.device(event.module)
            if device is not None and device.last_seen is not None:
                event = event.model_copy(update={"last_seen": device.last_seen, "gateway": device.last_gateway,
                                                 "app_token": event.app_token or device.app_token})
        for firing in matcher.match(event, store).firings:
            actual.append(ActualFiring(
                firing.rule_id, index,
                [(intent.action, intent.params, intent.error) for intent in firing.intents],
                firing.evaluation.reason,
            ))
        if event.kind == "uplink":
            uplink = event.item.uplink
            store.record_uplink(uplink.module, uplink.app_token, uplink.gateway, uplink.time)
    passed = len(actual) == len(case.expect) and all(_matches(e, a) for e, a in zip(case.expect, actual))
    lines: list[str] = []
    if not passed:
        lines.append("expected:" if case.expect else "expected: no firing")
        for expected in case.expect:
            event = "any event" if expected.event is None else f"event {expected.event}"
            actions = "" if expected.actions is None else f": {expected.actions}"
            lines.append(f"  - rule {expected.rule} on {event}{actions}")
        lines.append("actual:" if actual else "actual: no firing")
        for position, firing in enumerate(actual):
            ok = position < len(case.expect) and _matches(case.expect[position], firing)
            lines.append(f"  {' ' if ok else '!'} {firing.describe()}")
    return CaseResult(str(path), case.name, passed, lines, actual)
