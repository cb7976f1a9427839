"""The rule language as pydantic models. Unknown keys are rejected everywhere.

A rule file holds ``rules:``, a list of rules. Action options are validated in a second step
against the options model of the action type a plugin registered (see ``loader``), so this
module knows nothing about individual actions.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..conductor.addresses import node_type, normalize_address
from ..durations import Duration

__all__ = [
    "RULE_ID",
    "Strict",
    "UplinkTrigger",
    "ScheduleTrigger",
    "SilenceTrigger",
    "SendTrigger",
    "Trigger",
    "Cooldown",
    "Edge",
    "Hold",
    "Throttle",
    "RuleSpec",
    "RuleFile",
    "KEY_NAMES",
]

RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")

#: Names a modifier ``key`` may take besides a JsonLogic expression.
KEY_NAMES = ("module", "gateway", "app_token", "rule")

JsonLogic = Any
OneOrMany = str | list[str]


def check_addresses(addresses: list[str] | None, kind: str) -> list[str] | None:
    """Module or gateway addresses as Conductor writes them; a bare id would never match."""
    normalized = []
    for address in addresses or []:
        found, plain = node_type(address), normalize_address(address)  # normalize: %24 for $, as in URLs
        if "!" in plain:
            raise ValueError(f"{address!r} is a link address (far!type!near): give the {kind} address alone")
        if not (found.is_module if kind == "module" else found.is_gateway):
            example = "$301$0-0-0-0300a1b2c" if kind == "module" else "$101$0-0-0-db9504a40"
            raise ValueError(f"{address!r} is not a {kind} address: write it as Conductor does, e.g. '{example}'")
        normalized.append(plain)
    return normalized if addresses is not None else None


def _check_condition(value: Any) -> Any:
    """A condition is a JsonLogic object (or a constant). A text or a list would be a constant
    too, always true when not empty: written as a condition, it is a mistake."""
    if isinstance(value, str):
        raise ValueError(
            f"a condition is JsonLogic, not text: {value!r} is a constant, always true. Write it as an "
            "object, e.g. {\">\": [{\"var\": \"decoded.temperature\"}, 30]} (valid YAML as written)"
        )
    if isinstance(value, list):
        raise ValueError(
            "a condition is one JsonLogic object, not a list (a list is a constant, always true when not empty): "
            "to require every item, write 'and: [...]'; to require one of them, 'or: [...]'"
        )
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _listify(value: Any) -> Any:
    if value is None or isinstance(value, list):
        return value
    return [value]


class UplinkTrigger(Strict):
    """Fire on each new uplink that passes these filters (all optional; a list means any of)."""

    app_token: list[str] | None = None
    port: list[int] | None = None
    module: list[str] | None = None
    gateway: list[str] | None = None

    _lists = field_validator("app_token", "port", "module", "gateway", mode="before")(_listify)
    _modules = field_validator("module")(lambda modules: check_addresses(modules, "module"))
    _gateways = field_validator("gateway")(lambda gateways: check_addresses(gateways, "gateway"))

    @field_validator("port")
    @classmethod
    def _ports(cls, ports: list[int] | None) -> list[int] | None:
        for port in ports or []:
            if not 0 <= port <= 255:
                raise ValueError(f"uplink port must be 0..255, got {port}")
        return ports


class ScheduleTrigger(Strict):
    """Fire on a cron schedule (UTC, five fields) or at a fixed interval."""

    cron: str | None = None
    every: Duration | None = None
    app_token: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ScheduleTrigger:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of 'cron' (e.g. '*/5 * * * *') or 'every' (e.g. 10m)")
        if self.every is not None and self.every.total_seconds() < 1:
            raise ValueError("'every' must be at least 1s")
        if self.cron is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(self.cron, timezone="UTC")
            except ValueError as exc:
                raise ValueError(f"invalid cron expression {self.cron!r}: {exc}") from exc
        return self


class SilenceTrigger(Strict):
    """Fire once when a device has sent nothing for ``after`` (again after it is heard and falls silent again)."""

    after: Duration
    app_token: list[str] | None = None
    module: list[str] | None = None

    _lists = field_validator("app_token", "module", mode="before")(_listify)
    _modules = field_validator("module")(lambda modules: check_addresses(modules, "module"))


SendOutcome = Literal["complete", "partial", "expired"]


class SendTrigger(Strict):
    """Fire when a tracked send ends with one of these outcomes."""

    outcome: list[SendOutcome] = Field(default_factory=lambda: ["complete", "partial", "expired"])
    rule: list[str] | None = None

    _lists = field_validator("outcome", "rule", mode="before")(_listify)


class Trigger(Strict):
    uplink: UplinkTrigger | None = None
    schedule: ScheduleTrigger | None = None
    silence: SilenceTrigger | None = None
    send: SendTrigger | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Trigger:
        given = [name for name in ("uplink", "schedule", "silence", "send") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "a trigger needs exactly one of 'uplink', 'schedule', 'silence' or 'send'"
                + (f", got {' and '.join(given)}" if given else "")
            )
        return self

    @property
    def kind(self) -> str:
        return next(name for name in ("uplink", "schedule", "silence", "send") if getattr(self, name) is not None)


def _check_key(value: Any) -> Any:
    if isinstance(value, str) and value not in KEY_NAMES:
        raise ValueError(f"key must be one of {', '.join(KEY_NAMES)} or a JsonLogic expression, got {value!r}")
    return value


class Cooldown(Strict):
    """After a firing, stay quiet for ``duration`` (per ``key``; the whole rule by default)."""

    duration: Duration
    key: JsonLogic = "rule"

    _key = field_validator("key")(_check_key)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {"duration": value}


class Edge(Strict):
    """Fire only when the condition turns true (per ``key``, the module by default).

    With ``clear``, the rule re-arms only once ``clear`` holds (hysteresis); without it, once the
    condition is false again.
    """

    clear: JsonLogic = None
    key: JsonLogic = "module"

    _key = field_validator("key")(_check_key)
    _clear = field_validator("clear")(_check_condition)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if value is True:
            return {}
        if not isinstance(value, dict):
            raise ValueError(f"write 'edge: true', or a mapping such as 'edge: {{clear: ..., key: module}}', got {value!r}")
        return value


class Hold(Strict):
    """The condition must hold for ``duration`` and/or ``count`` consecutive uplinks (per ``key``)."""

    duration: Duration | None = None
    count: int | None = Field(default=None, ge=1)
    key: JsonLogic = "module"

    _key = field_validator("key")(_check_key)

    @model_validator(mode="after")
    def _something(self) -> Hold:
        if self.duration is None and self.count is None:
            raise ValueError("'for' needs 'duration' (e.g. 5m) and/or 'count' (consecutive uplinks)")
        return self


class Throttle(Strict):
    """At most ``max`` firings per ``per`` window (sliding), per ``key``."""

    max: int = Field(ge=1)
    per: Duration
    key: JsonLogic = "rule"

    _key = field_validator("key")(_check_key)


class RuleSpec(Strict):
    id: str
    description: str | None = None
    enabled: bool = True
    trigger: Trigger
    decoder: str | None = None
    condition: JsonLogic = True
    cooldown: Cooldown | None = None
    edge: Edge | None = None
    hold: Hold | None = Field(default=None, alias="for")
    throttle: Throttle | None = None
    actions: list[dict[str, Any]] = Field(min_length=1)

    _condition = field_validator("condition")(_check_condition)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not RULE_ID.match(value):
            raise ValueError(
                "a rule id is 1-80 characters: letters, digits, '_', '-', '.', starting with a letter or digit"
            )
        return value

    @field_validator("actions", mode="before")
    @classmethod
    def _one_key_each(cls, actions: Any) -> Any:
        if not isinstance(actions, list):
            return actions
        for index, action in enumerate(actions):
            if isinstance(action, str):
                continue  # a bare action name without options; normalised by the loader
            if not isinstance(action, dict) or len(action) != 1:
                keys = ", ".join(action) if isinstance(action, dict) else type(action).__name__
                raise ValueError(
                    f"action {index} must be a mapping with exactly one key, the action type "
                    f"(e.g. '- multicast: {{...}}'), got {keys or 'an empty mapping'}"
                )
        return [{action: {}} if isinstance(action, str) else action for action in actions]


class RuleFile(Strict):
    rules: list[Any] = Field(default_factory=list)
