"""Load rule files into compiled rules, collecting every problem instead of stopping at the first.

A problem in one rule never stops the other rules, in the same file or in others, from loading.
``RuleSet.problems`` lists errors and warnings, each with file:line:column, rule id and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from pydantic import ValidationError

from ..errors import ConditionError, RuleError
from .compiled import CompiledAction, CompiledRule, key_function
from .diagnostics import Problem, did_you_mean, problems_from_validation
from .guards import extract_guards
from .placeholders import var_problems
from .schema import RuleFile, RuleSpec
from .source import DataPath, SourceMap, format_path, load_yaml

if TYPE_CHECKING:
    from ..toolkit import Toolkit

__all__ = ["RuleSet", "load_rules", "rule_files", "TEST_SUFFIXES", "json_path_to_data_path"]

TEST_SUFFIXES = (".test.yaml", ".test.yml")
_JSON_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


@dataclass
class RuleSet:
    rules: list[CompiledRule] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def by_id(self, rule_id: str) -> CompiledRule:
        return next(rule for rule in self.rules if rule.id == rule_id)


def rule_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """Expand files and directories into rule files (``*.yaml``/``*.yml``, not ``*.test.yaml``)."""
    found: list[Path] = []
    problems: list[Problem] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            files = [p for p in candidates if not p.name.endswith(TEST_SUFFIXES)]
            if not files:
                from .source import Located

                problems.append(Problem(Located(str(path), 1, 1), "the directory holds no rule file (*.yaml or *.yml; "
                                        "*.test.yaml files are test cases)", severity="warning"))
            found.extend(files)
        elif path.is_file():
            found.append(path)
        else:
            from .source import Located

            problems.append(Problem(Located(str(path), 1, 1), "no such file or directory"))
    return found, problems


def json_path_to_data_path(json_path: str) -> DataPath:
    """``$.and[1].fooo`` -> ``('and', 1, 'fooo')``."""
    parts: list[str | int] = []
    for match in _JSON_PATH_PART.finditer(json_path.removeprefix("$")):
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
    return tuple(parts)


def load_rules(paths: Iterable[str | Path], toolkit: Toolkit) -> RuleSet:
    """Load, validate and compile every rule under ``paths``; ids must be unique across files."""
    files, problems = rule_files(paths)
    result = RuleSet(problems=problems, files=files)
    first_seen: dict[str, Problem] = {}
    for path in files:
        for rule, problems_of_rule in _load_file(path, toolkit):
            result.problems.extend(problems_of_rule)
            if rule is None:
                continue
            if rule.id in first_seen:
                where = first_seen[rule.id].where
                result.problems.append(
                    Problem(rule.where, f"rule id '{rule.id}' is already used at {where}; rule ids must be unique across files", rule.id, "id")
                )
                continue
            first_seen[rule.id] = Problem(rule.where, "", rule.id)
            result.rules.append(rule)
    result.problems.extend(_send_trigger_problems(result.rules))
    result.problems.sort(key=lambda p: (p.where.file, p.where.line, p.where.column))
    return result


def _send_trigger_problems(rules: list[CompiledRule]) -> list[Problem]:
    """A ``send`` trigger that names a rule without tracked sends never fires."""
    by_id = {rule.id: rule for rule in rules}
    problems = []
    for rule in rules:
        send = rule.spec.trigger.send
        for name in (send.rule or []) if send is not None else []:
            target = by_id.get(name)
            if target is None:
                message = (f"no loaded rule has the id '{name}'{did_you_mean(name, by_id)}, so this rule never fires "
                           "(a rule that failed to load is not counted)")
            elif not any(getattr(action.planned, "ack", None) is not None for action in target.actions):
                message = f"rule '{name}' makes no tracked send (an action with 'ack:'), so this rule never fires"
            else:
                continue
            problems.append(Problem(rule.where, message, rule.id, "trigger.send.rule", "warning"))
    return problems


def _load_file(path: Path, toolkit: Toolkit) -> list[tuple[CompiledRule | None, list[Problem]]]:
    from .source import Located

    try:
        data, source = load_yaml(path)
    except RuleError as exc:
        return [(None, [Problem(Located(str(path), exc.line or 1, exc.column or 1), exc.reason)])]
    if data is None:
        return [(None, [Problem(Located(str(path), 1, 1), "the file is empty; a rule file starts with 'rules:'", severity="warning")])]
    if not isinstance(data, dict):
        return [(None, [Problem(Located(str(path), 1, 1), "a rule file is a mapping with a 'rules:' list at the top")])]
    try:
        RuleFile.model_validate(data)
    except ValidationError as exc:
        return [(None, problems_from_validation(exc, RuleFile, source))]
    results = []
    for index, raw in enumerate(data.get("rules") or []):
        results.append(_load_rule(raw, index, source, toolkit))
    return results


def _load_rule(raw: Any, index: int, source: SourceMap, toolkit: Toolkit) -> tuple[CompiledRule | None, list[Problem]]:
    prefix: DataPath = ("rules", index)
    where = source.locate(prefix)
    if not isinstance(raw, dict):
        return None, [Problem(where, f"rule {index} must be a mapping with 'id', 'trigger' and 'actions'")]
    rule_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    try:
        spec = RuleSpec.model_validate(raw)
    except ValidationError as exc:
        return None, problems_from_validation(exc, RuleSpec, source, prefix, rule_id)
    problems: list[Problem] = []

    def problem(path: DataPath, message: str, field_name: str | None, *, key: bool = False, severity: str = "error") -> None:
        problems.append(Problem(source.locate(prefix + path, key=key), message, spec.id, field_name, severity))

    def compile_json_logic(value: Any, path: DataPath, field_name: str) -> Any:
        try:
            return toolkit.compile_expr(value)
        except ConditionError as exc:
            inner = json_path_to_data_path(exc.path)
            problem(path + inner, exc.reason, field_name + (exc.path[1:] if exc.path != "$" else ""), key=bool(inner))
            return None

    decoder_fields: frozenset[str] | None = None
    if spec.decoder is not None:
        if spec.decoder not in toolkit.decoders:
            problem(("decoder",), f"unknown decoder '{spec.decoder}'{did_you_mean(spec.decoder, toolkit.decoders)}; "
                    f"known: {', '.join(sorted(toolkit.decoders))}", "decoder")
        else:
            decoder_fields = toolkit.decoder_fields(spec.decoder)

    app_tokens = _resolve_tokens(spec, toolkit, problem)
    # the decoded fields this rule sees, when its decoder (or every decoder of its AppTokens) declares them
    fields = decoder_fields if decoder_fields is not None else toolkit.known_decoded_fields(app_tokens)
    condition = compile_json_logic(spec.condition, ("condition",), "condition")
    if condition is not None:
        for warning in toolkit.lint(spec.condition, fields):
            problem(("condition",) + json_path_to_data_path(warning.path), warning.message, "condition", severity="warning")
        located = toolkit.var_locations(spec.condition)
        for path, message, severity in var_problems(located, spec.trigger.kind):
            problem(("condition",) + located[path], message, "condition", severity=severity)
    clear = None
    if spec.edge is not None and spec.edge.clear is not None:
        clear = compile_json_logic(spec.edge.clear, ("edge", "clear"), "edge.clear")
    keys = {}
    for name, modifier in (("cooldown", spec.cooldown), ("edge", spec.edge), ("for", spec.hold), ("throttle", spec.throttle)):
        if modifier is not None:
            try:
                keys[name] = key_function(modifier.key, toolkit.compile_expr)
            except ConditionError as exc:
                problem((name, "key") + json_path_to_data_path(exc.path), exc.reason, f"{name}.key")
    actions = _build_actions(spec, toolkit, source, prefix, problems, fields if spec.decoder is None else decoder_fields)
    if problems and any(p.severity == "error" for p in problems):
        return None, problems
    trigger = spec.trigger
    filters = trigger.uplink or trigger.silence
    rule = CompiledRule(
        spec=spec,
        where=where,
        condition=condition,
        condition_vars=toolkit.var_paths(spec.condition),
        clear=clear,
        keys=keys,
        actions=tuple(actions),
        app_tokens=app_tokens,
        ports=frozenset(trigger.uplink.port) if trigger.uplink and trigger.uplink.port else None,
        modules=frozenset(filters.module) if filters is not None and filters.module else None,
        gateways=frozenset(trigger.uplink.gateway) if trigger.uplink and trigger.uplink.gateway else None,
        guards=extract_guards(spec.condition, toolkit.operators) if trigger.kind == "uplink" and spec.decoder is None else (),
    )
    return rule, problems


def _resolve_tokens(spec: RuleSpec, toolkit: Toolkit, problem: Any) -> frozenset[str] | None:
    trigger = spec.trigger
    names = (trigger.uplink.app_token if trigger.uplink else None) or (trigger.silence.app_token if trigger.silence else None)
    if not names:
        return None
    resolved = set()
    for position, name in enumerate(names):
        try:
            resolved.add(toolkit.config.resolve_app_token(name))
        except KeyError:
            aliases = list(toolkit.config.app_tokens)
            problem(("trigger", trigger.kind, "app_token", position) if len(names) > 1 else ("trigger", trigger.kind, "app_token"),
                    f"unknown AppToken alias '{name}'{did_you_mean(name, aliases)}; use an alias from the engine config "
                    f"({', '.join(aliases) or 'none defined'}) or a 20-hex token", f"trigger.{trigger.kind}.app_token")
    return frozenset(resolved)


def _build_actions(spec: RuleSpec, toolkit: Toolkit, source: SourceMap, prefix: DataPath, problems: list[Problem],
                   decoded_fields: frozenset[str] | None) -> list[CompiledAction]:
    from ..actions import BuildContext, OptionError
    from .placeholders import placeholder_problems

    built: list[CompiledAction] = []
    context = BuildContext(
        config=toolkit.config, rule_id=spec.id, compile_expr=toolkit.compile_expr,
        compile_payload=toolkit.compile_payload, trigger_kind=spec.trigger.kind,
    )
    for index, entry in enumerate(spec.actions):
        (name, options), = entry.items()
        path = prefix + ("actions", index, name)
        where = source.locate(path, key=True)
        action_type = toolkit.registries.actions.get(name)
        if action_type is None:
            known = sorted(toolkit.registries.actions)
            problems.append(Problem(where, f"unknown action '{name}'{did_you_mean(name, known)}; known actions: {', '.join(known)}",
                                    spec.id, f"actions[{index}]"))
            continue
        try:
            validated = action_type.options.model_validate(options if options is not None else {})
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, action_type.options, source, path, spec.id))
            continue
        for inner, message, severity in placeholder_problems(name, options, spec.trigger.kind, decoded_fields):
            problems.append(Problem(source.locate(path + inner), message, spec.id, f"actions[{index}].{name}.{format_path(inner)}",
                                    severity))
        try:
            planned = action_type.build(validated, context)
        except OptionError as exc:
            problems.append(Problem(source.locate(path + exc.field, key=True), str(exc), spec.id,
                                    f"actions[{index}].{name}.{format_path(exc.field)}"))
            continue
        except ConditionError as exc:
            problems.append(Problem(source.locate(path), f"{exc}", spec.id, f"actions[{index}].{name}"))
            continue
        except (ValueError, TypeError) as exc:
            problems.append(Problem(source.locate(path), str(exc), spec.id, f"actions[{index}].{name}"))
            continue
        built.append(CompiledAction(index, action_type, planned, where))
    return built
