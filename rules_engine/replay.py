"""``rules-engine replay FILE --dry-run``: recorded uplinks through the rules, nothing sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conductor._wire import parse_uplink
from .errors import ProtocolError
from .models import UplinkEvent
from .pipeline.match import Matcher
from .rules.diagnostics import Problem
from .rules.index import RuleIndex
from .rules.loader import load_rules
from .state import MemoryStateStore
from .toolkit import Toolkit

__all__ = ["ReplayPlan", "replay_file"]


@dataclass
class ReplayPlan:
    steps: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rules_failed: bool = False
    uplinks: int = 0
    skipped: int = 0
    skipped_reasons: list[str] = field(default_factory=list)


def _target(params: dict[str, Any], store: MemoryStateStore) -> str:
    if "app_token" in params:
        gateways = params.get("gateways")
        devices = sorted(
            record.module for record in store.devices.values()
            if record.app_token == params["app_token"] and (not gateways or record.last_gateway in gateways)
        )
        via = f" last heard via {', '.join(gateways)}" if gateways else ""
        shown = ", ".join(devices[:8]) + (f", … ({len(devices) - 8} more)" if len(devices) > 8 else "")
        return f"{len(devices)} device(s) seen so far on {params['app_token']}{via}: {shown or 'none yet'}"
    if "module" in params and params.get("module"):
        return str(params["module"]) + (f" via {params['gateway']}" if params.get("gateway") else "")
    if "url" in params:
        return str(params["url"])
    return ""


def replay_file(path: Path, rule_paths: list[Path], toolkit: Toolkit) -> ReplayPlan:
    plan = ReplayPlan()
    ruleset = load_rules(rule_paths, toolkit)
    plan.problems = ruleset.problems
    if ruleset.errors:
        plan.rules_failed = True
        return plan
    uplinks = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                uplink = parse_uplink(json.loads(line), f"{path}:{number}")
            except (ValueError, ProtocolError) as exc:
                plan.skipped += 1
                plan.skipped_reasons.append(f"{path}:{number}: {exc}")
                continue
            if uplink.uuid not in seen:
                seen.add(uplink.uuid)
                uplinks.append(uplink)
    uplinks.sort(key=lambda uplink: uplink.time)
    store = MemoryStateStore()
    matcher = Matcher(RuleIndex(ruleset.rules), toolkit.redecode)
    for uplink in uplinks:
        event = UplinkEvent(item=toolkit.decode(uplink))
        firings = matcher.match(event, store).firings
        store.record_uplink(uplink.module, uplink.app_token, uplink.gateway, uplink.time)
        for firing in firings:
            for intent in firing.intents:
                plan.steps.append({
                    "time": uplink.time.isoformat(),
                    "uplink": uplink.uuid,
                    "module": uplink.module,
                    "rule": firing.rule_id,
                    "action": intent.action,
                    "summary": intent.summary if not intent.error else f"{intent.action}: ERROR {intent.error}",
                    "target": _target(intent.params, store),
                    "params": intent.params,
                    "values": firing.evaluation.values,
                    "reason": firing.evaluation.reason,
                    "payload": intent.explain.get("payload"),
                })
    plan.uplinks = len(uplinks)
    return plan
