"""Built-in actions: multicast, unicast, webhook, log, set_state."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..acks.spec import AckSpec
from ..actions import ActionType, BuildContext, ExecutionContext, OptionError, Plan, render_template
from ..durations import Duration
from ..hookspecs import hookimpl
from ..rules.diagnostics import did_you_mean
from ..rules.schema import check_addresses

__all__ = ["register_actions"]

JsonLogic = Any


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _constant_addresses(field: str, value: Any, kind: str) -> None:
    """A constant module or gateway (not an expression) must be an address: Conductor refuses
    anything else, so the send could only fail."""
    constants = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    try:
        check_addresses([item for item in constants if isinstance(item, str)], kind)
    except ValueError as exc:
        raise OptionError(field, str(exc)) from None


def _constant_or_expr(value: Any, ctx: BuildContext) -> Any:
    """A callable ``context -> value`` for a constant or a JsonLogic expression."""
    if isinstance(value, dict):
        return ctx.compile_expr(value)
    return lambda _context, constant=value: constant


def _resolve_token(field: str, value: str | None, ctx: BuildContext) -> Any:
    if value is None:
        if ctx.trigger_kind not in ("uplink", "silence"):
            raise OptionError(field, "no triggering uplink to take the AppToken from: name 'app_token'")
        return lambda context: (context.get("uplink") or context.get("device") or {}).get("app_token")
    try:
        token = ctx.config.resolve_app_token(value)
    except KeyError:
        aliases = list(ctx.config.app_tokens)
        raise OptionError(
            field,
            f"unknown AppToken alias '{value}'{did_you_mean(value, aliases)}; "
            f"use an alias from the engine config ({', '.join(aliases) or 'none defined'}) or a 20-hex token",
        ) from None
    return lambda _context: token


def _explain(builder: Any, context: dict[str, Any]) -> list[dict[str, Any]]:
    from ..toolkit import explain_payload

    return explain_payload(builder, context)


def _require(value: Any, what: str) -> Any:
    if value in (None, "", []):
        raise ValueError(f"{what} is empty for this event")
    return value


class _Downlink(_Options):
    payload: str | list[dict[str, Any]]
    port: int = Field(default=0, ge=0, le=127)
    ttl: Duration = timedelta(seconds=60)
    priority: int = 10
    ack: AckSpec | None = None


class _Tracked:
    """Shared by multicast and unicast: the ``ack:`` option (application-level acknowledgement).

    The matcher asks :meth:`ack_token` before planning; when it is not ``None`` it allocates the
    send's sequence number, plans with ``send.seq`` in the context, then asks :meth:`track` for
    the expected recipients, recorded with the intent in the same transaction.
    """

    ack: AckSpec | None
    token: Any

    def _setup_ack(self, ack: AckSpec | None, ctx: BuildContext) -> None:
        self.ack = ack
        if ack is None:
            return
        ctx.compile_expr(ack.ack_condition)  # reject a bad ack condition at load time
        if ack.expect == "group" and ack.group not in ctx.config.groups:
            groups = list(ctx.config.groups)
            raise OptionError(("ack", "group"), f"unknown group '{ack.group}'{did_you_mean(ack.group or '', groups)}; "
                                                f"groups in the engine config: {', '.join(groups) or 'none'}")
        self.groups = {name: list(members) for name, members in ctx.config.groups.items()}

    def ack_token(self, context: dict[str, Any], store: Any) -> str | None:
        """The AppToken whose sequence numbers this send uses (``None``: not tracked)."""
        return None if self.ack is None else self._tracking_token(context, store)

    def _tracking_token(self, context: dict[str, Any], store: Any) -> str | None:
        return self.token(context)

    def track(self, context: dict[str, Any], params: dict[str, Any], store: Any) -> dict[str, Any]:
        ack = self.ack
        assert ack is not None
        token = context["send"]["app_token"]
        gateways = params.get("gateways") or ([params["gateway"]] if params.get("gateway") else None)
        if ack.expect == "target" and params.get("module"):
            device = store.device(params["module"])
            expected = [(params["module"], device.last_gateway if device else None)]
        elif ack.expect in ("group", "modules"):
            members = self.groups[ack.group] if ack.expect == "group" else list(ack.modules or [])
            expected = [(m, (d.last_gateway if (d := store.device(m)) else None)) for m in members]
        else:
            since = context["now"] - ack.seen_within.total_seconds()
            expected = store.devices_seen(token, since, gateways)
        retry = ack.retry
        return {
            "app_token": token,
            "seq": context["send"]["seq"],
            "expected": sorted([list(pair) for pair in expected]),
            "spec": {
                "condition": ack.ack_condition,
                "deadline_s": ack.deadline.total_seconds(),
                "rounds": retry.rounds,
                "multicast_above": retry.multicast_above,
                "gateway_interval_s": retry.gateway_interval,
                "retry_deadline_s": (retry.deadline or ack.deadline).total_seconds(),
            },
        }


class MulticastOptions(_Downlink):
    app_token: str | None = None
    gateway: str | list[str] | dict[str, Any] | None = None


class _Multicast(_Tracked):
    def __init__(self, options: MulticastOptions, ctx: BuildContext) -> None:
        self.options = options
        self.token = _resolve_token("app_token", options.app_token, ctx)
        _constant_addresses("gateway", options.gateway, "gateway")
        self.gateway = _constant_or_expr(options.gateway, ctx)
        self.payload = ctx.compile_payload(options.payload)
        self._setup_ack(options.ack, ctx)

    def plan(self, context: dict[str, Any]) -> Plan:
        token = _require(self.token(context), "the AppToken")
        gateway = self.gateway(context)
        gateways = None if gateway in (None, "", []) else ([gateway] if isinstance(gateway, str) else list(gateway))
        payload = self.payload.build(context)
        via = f" via {', '.join(gateways)}" if gateways else ""
        return Plan(
            params={
                "app_token": token,
                "gateways": gateways,
                "payload_hex": payload.hex().upper(),
                "port": self.options.port,
                "ttl_s": self.options.ttl.total_seconds(),
                "priority": self.options.priority,
            },
            summary=f"multicast {payload.hex().upper()} to AppToken {token}{via} on port {self.options.port}",
            explain={"payload": _explain(self.payload, context)},
        )


async def _execute_multicast(params: dict[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
    command = await ctx.conductor.multicast(
        params["app_token"], params["payload_hex"], gateways=params["gateways"],
        ttl_s=params["ttl_s"], port=params["port"], priority=params["priority"],
    )
    return {"issuance_id": command.issuance_id}


def _event_module(context: dict[str, Any]) -> Any:
    return (context.get("uplink") or {}).get("module") or (context.get("device") or {}).get("module")


def _module_of(value: str | dict[str, Any] | None, ctx: BuildContext, hint: str) -> Any:
    if value is None:
        if ctx.trigger_kind not in ("uplink", "silence"):
            raise OptionError("module", f"no triggering device to take the module from: {hint}")
        return _event_module
    return _constant_or_expr(value, ctx)


class UnicastOptions(_Downlink):
    module: str | dict[str, Any] | None = None
    gateway: str | dict[str, Any] | None = None
    acked: bool = True


class _Unicast(_Tracked):
    def __init__(self, options: UnicastOptions, ctx: BuildContext) -> None:
        self.options = options
        _constant_addresses("module", options.module, "module")
        _constant_addresses("gateway", options.gateway, "gateway")
        self.module = _module_of(options.module, ctx, "name 'module'")
        self.gateway = _constant_or_expr(options.gateway, ctx)
        self.payload = ctx.compile_payload(options.payload)
        if options.ack is not None and options.ack.expect == "seen":
            options = options.model_copy(update={"ack": options.ack.model_copy(update={"expect": "target"})})
            self.options = options
        self._setup_ack(options.ack, ctx)

    def _tracking_token(self, context: dict[str, Any], store: Any) -> str | None:
        module = self.module(context)
        device = store.device(module) if module else None
        if device is not None and device.app_token:
            return device.app_token
        return (context.get("uplink") or context.get("device") or {}).get("app_token")

    def plan(self, context: dict[str, Any]) -> Plan:
        module = _require(self.module(context), "the module")
        gateway = self.gateway(context) or None
        payload = self.payload.build(context)
        via = f" via {gateway}" if gateway else ""
        return Plan(
            params={
                "module": module,
                "gateway": gateway,
                "payload_hex": payload.hex().upper(),
                "port": self.options.port,
                "ttl_s": self.options.ttl.total_seconds(),
                "priority": self.options.priority,
                "acked": self.options.acked,
            },
            summary=f"unicast {payload.hex().upper()} to {module}{via} on port {self.options.port}",
            explain={"payload": _explain(self.payload, context)},
        )


async def _execute_unicast(params: dict[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
    command = await ctx.conductor.unicast(
        params["module"], params["payload_hex"], gateway=params["gateway"], acked=params["acked"],
        ttl_s=params["ttl_s"], port=params["port"], priority=params["priority"],
    )
    return {"issuance_id": command.issuance_id}


class WebhookOptions(_Options):
    url: str
    method: Literal["POST", "PUT", "PATCH", "GET"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    headers_from_env: dict[str, str] = Field(default_factory=dict)
    json_body: dict[str, JsonLogic] | None = Field(default=None, alias="json")
    timeout: Duration = timedelta(seconds=10)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a webhook url starts with http:// or https://, got {url!r}")
        return url


class _Webhook:
    def __init__(self, options: WebhookOptions, ctx: BuildContext) -> None:
        self.options = options
        self.body = {key: _constant_or_expr(value, ctx) for key, value in (options.json_body or {}).items()}

    def plan(self, context: dict[str, Any]) -> Plan:
        url = render_template(self.options.url, context)
        body = {key: compute(context) for key, compute in self.body.items()} if self.options.json_body is not None else None
        return Plan(
            params={
                "url": url,
                "method": self.options.method,
                "headers": {k: render_template(v, context) for k, v in self.options.headers.items()},
                "headers_from_env": dict(self.options.headers_from_env),
                "json": body,
                "timeout_s": self.options.timeout.total_seconds(),
            },
            summary=f"webhook {self.options.method} {url}",
        )


async def _execute_webhook(params: dict[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
    headers = dict(params["headers"])
    for header, variable in params["headers_from_env"].items():
        if variable in os.environ:
            headers[header] = os.environ[variable]
    response = await ctx.http.request(
        params["method"], params["url"], headers=headers, json=params["json"], timeout=params["timeout_s"]
    )
    response.raise_for_status()
    return {"status": response.status_code}


class LogOptions(_Options):
    message: str
    level: Literal["debug", "info", "warning", "error"] = "info"


class _Log:
    def __init__(self, options: LogOptions, ctx: BuildContext) -> None:
        self.options = options

    def plan(self, context: dict[str, Any]) -> Plan:
        message = render_template(self.options.message, context)
        return Plan(params={"message": message, "level": self.options.level}, summary=f"log {self.options.level}: {message}")


async def _execute_log(params: dict[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
    logger = ctx.logger or logging.getLogger("rules_engine.actions")
    logger.log(logging.getLevelName(params["level"].upper()), params["message"])
    return {}


class SetStateOptions(_Options):
    key: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    value: JsonLogic = None
    scope: Literal["device", "global"] = "device"
    module: str | dict[str, Any] | None = None


class _SetState:
    def __init__(self, options: SetStateOptions, ctx: BuildContext) -> None:
        self.options = options
        self.value = _constant_or_expr(options.value, ctx)
        self.module = (_module_of(options.module, ctx, "name 'module' or use scope: global")
                       if options.scope == "device" else (lambda _context: None))

    def plan(self, context: dict[str, Any]) -> Plan:
        value = self.value(context)
        module = _require(self.module(context), "the module") if self.options.scope == "device" else None
        where = f"device {module}" if module else "global"
        return Plan(
            params={"scope": self.options.scope, "module": module, "key": self.options.key, "value": value},
            summary=f"set {where} state {self.options.key} = {value!r}",
        )


def _apply_set_state(params: dict[str, Any], store: Any) -> None:
    if params["scope"] == "device":
        store.set_device_state(params["module"], params["key"], params["value"])
    else:
        store.set_global_state(params["key"], params["value"])


@hookimpl
def register_actions() -> list[ActionType]:
    return [
        ActionType("multicast", MulticastOptions, _Multicast, execute=_execute_multicast,
                   description="multicast a payload to every device of an AppToken, or through gateways"),
        ActionType("unicast", UnicastOptions, _Unicast, execute=_execute_unicast,
                   description="send a payload to one module (Conductor-acked by default)"),
        ActionType("webhook", WebhookOptions, _Webhook, execute=_execute_webhook,
                   description="call an HTTP endpoint with a JSON body built from the context"),
        ActionType("log", LogOptions, _Log, execute=_execute_log, description="write a log line"),
        ActionType("set_state", SetStateOptions, _SetState, apply=_apply_set_state,
                   description="store a value in device or global state, read by later conditions"),
    ]
