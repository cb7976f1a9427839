"""Simulator-only control and ground-truth endpoints under ``/_sim/`` (Basic auth, never faulted)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rules_engine.conductor.timefmt import parse_time
from rules_engine.simulator.api_error import ApiError, bad_request
from rules_engine.simulator.config import DownlinkMode
from rules_engine.simulator.faults import Faults
from rules_engine.simulator.http import endpoint, json_response, read_json, simulator_of

__all__ = ["routes"]


def _time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return parse_time(raw)
    except ValueError as exc:
        raise bad_request(f"{name}: bad time {raw!r}") from exc


def _dump(items: list[Any]) -> list[Any]:
    return [item.model_dump(mode="json") for item in items]


@endpoint
async def uplinks(request: Request) -> Response:
    sim = simulator_of(request)
    q = request.query_params
    port = q.get("port")
    records = sim.uplinks(
        app_token=q.get("app_token") or None,
        module=q.get("module") or None,
        gateway=q.get("gateway") or None,
        port=int(port) if port else None,
        kind=q.get("kind") or None,
        since=_time(request, "since"),
        until=_time(request, "until"),
        visible_only=q.get("visible_only", "").lower() in ("1", "true", "yes"),
    )
    return json_response(_dump(records))


@endpoint
async def commands(request: Request) -> Response:
    sim = simulator_of(request)
    q = request.query_params
    records = sim.commands(
        since=_time(request, "since"),
        until=_time(request, "until"),
        app_token=q.get("app_token") or None,
        module=q.get("module") or None,
    )
    return json_response(_dump(records))


@endpoint
async def command(request: Request) -> Response:
    sim = simulator_of(request)
    return json_response(sim.command(request.path_params["issuance_id"]).model_dump(mode="json"))


@endpoint
async def faults(request: Request) -> Response:
    sim = simulator_of(request)
    if request.method in ("PUT", "PATCH"):
        body = await read_json(request)
        if not isinstance(body, dict):
            raise bad_request("the body must be a JSON object of Faults fields")
        try:
            if request.method == "PUT":
                sim.set_faults(Faults.model_validate(body))
            else:
                sim.set_faults(**body)
        except ValidationError as exc:
            raise bad_request(str(exc)) from exc
    return json_response(sim.faults.model_dump(mode="json"))


def _clock(sim: Any) -> dict[str, Any]:
    return {
        "now": sim.clock.now().isoformat(),
        "server_now": sim.now().isoformat(),
        "manual": hasattr(sim.clock, "advance"),
    }


@endpoint
async def clock(request: Request) -> Response:
    return json_response(_clock(simulator_of(request)))


@endpoint
async def clock_advance(request: Request) -> Response:
    sim = simulator_of(request)
    body = await read_json(request) or {}
    seconds = body.get("seconds") if isinstance(body, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise bad_request('body must be {"seconds": <non-negative number>}')
    if not hasattr(sim.clock, "advance"):
        raise ApiError(409, "Conflict", "the simulator runs on a real clock; advance needs a ManualClock")
    sim.advance(float(seconds))
    return json_response(_clock(sim))


@endpoint
async def fleet(request: Request) -> Response:
    sim = simulator_of(request)
    config = sim.config
    sim.catch_up()
    return json_response(
        {
            "seed": config.seed,
            "account": {"id": config.account.id, "name": config.account.name, "username": config.account.username},
            "app_tokens": [{"hash": t.hash, "name": t.name} for t in sim.fleet.tokens],
            "network_tokens": [t.hash for t in config.network_tokens],
            "gateways": [g.address for g in config.gateways],
            "modules": len(config.modules),
            "uplinks_generated": len(sim.store),
        }
    )


@endpoint
async def set_module(request: Request) -> Response:
    sim = simulator_of(request)
    body = await read_json(request)
    mode = body.get("downlinkMode") if isinstance(body, dict) else None
    try:
        value = DownlinkMode(int(mode))  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise bad_request('body must be {"downlinkMode": 0|1|2}') from exc
    sim.set_downlink_mode(request.path_params["address"], value)
    return json_response({"nodeAddress": request.path_params["address"], "downlinkMode": str(int(value))})


routes = [
    Route("/_sim/uplinks", uplinks, methods=["GET"]),
    Route("/_sim/commands", commands, methods=["GET"]),
    Route("/_sim/commands/{issuance_id}", command, methods=["GET"]),
    Route("/_sim/faults", faults, methods=["GET", "PUT", "PATCH"]),
    Route("/_sim/clock", clock, methods=["GET"]),
    Route("/_sim/clock/advance", clock_advance, methods=["POST"]),
    Route("/_sim/fleet", fleet, methods=["GET"]),
    Route("/_sim/modules/{address}", set_module, methods=["PUT"]),
]
