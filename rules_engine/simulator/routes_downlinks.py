"""ClientEdge downlinks: issueCommand, issuedCommand (object, status, statusDetail), cancel, history."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rules_engine.simulator import _invented as inv
from rules_engine.simulator.api_error import not_found
from rules_engine.simulator.fleet import canonical
from rules_engine.simulator.http import base_url, endpoint, json_response, read_json, simulator_of
from rules_engine.simulator.render import command_object, status_detail
from rules_engine.simulator.routes_uplinks import parse_window

__all__ = ["routes"]


@endpoint
async def issue_command(request: Request) -> Response:
    sim = simulator_of(request)
    body = await read_json(request)
    with sim.locked() as now:
        command = sim.downlinks.issue(body, now)
        sim.catch_up()
        data = command_object(command, base_url(request))
    if sim.injector.lost_response():
        return json_response({"description": "Gateway Timeout", "message": "simulated lost response"}, 504)
    return json_response(data)


@endpoint
async def issued_command(request: Request) -> Response:
    sim = simulator_of(request)
    with sim.locked():
        command = sim.downlinks.get(request.path_params["issuance_id"])
        return json_response(command_object(command, base_url(request)))


@endpoint
async def command_status(request: Request) -> Response:
    sim = simulator_of(request)
    with sim.locked():
        command = sim.downlinks.get(request.path_params["issuance_id"])
        return json_response({"status": command.status()})


@endpoint
async def command_status_detail(request: Request) -> Response:
    sim = simulator_of(request)
    link = request.path_params["link"]
    with sim.locked() as now:
        command = sim.downlinks.get(request.path_params["issuance_id"])
        route = next((r for r in command.routes if r.key == canonical(link)), None)
        if route is None:
            raise not_found(f"command {command.issuance_id} has no route {link}")
        return json_response(status_detail(route, now))


@endpoint
async def cancel_command(request: Request) -> Response:
    sim = simulator_of(request)
    with sim.locked() as now:
        command = sim.downlinks.cancel(request.path_params["issuance_id"], now)
        return json_response(command_object(command, base_url(request)))


@endpoint
async def command_history(request: Request) -> Response:
    sim = simulator_of(request)
    p = request.path_params
    if p["subject_type"] != "node" and not (p["subject_type"] == "lte" and inv.LTE_SUBJECT_ALIAS):
        raise not_found(f"unsupported subject type {p['subject_type']} (use node, with $401$ for an AppToken)")
    start_ms, stop_ms = parse_window(sim, p["stop"], p["start"])
    base = base_url(request)
    with sim.locked():
        commands = sim.downlinks.for_subject(p["subject_id"])
        selected = [c for c in commands if start_ms <= c.issued_ms <= stop_ms]
        selected.sort(key=lambda c: (c.issued_ms, c.number), reverse=inv.NEWEST_FIRST)
        return json_response([command_object(c, base) for c in selected])


routes = [
    Route("/clientEdge/issueCommand", issue_command, methods=["POST"]),
    Route("/clientEdge/issuedCommand/{issuance_id}", issued_command, methods=["GET"]),
    Route("/clientEdge/issuedCommand/{issuance_id}/status", command_status, methods=["GET"]),
    Route("/clientEdge/issuedCommand/{issuance_id}/statusDetail/{link}", command_status_detail, methods=["GET"]),
    Route("/clientEdge/command/{issuance_id}", cancel_command, methods=["DELETE"]),
    Route("/clientEdge/commands/{subject_type}/{subject_id}/{stop}/{start}", command_history, methods=["GET"]),
]
