"""Access API: the account of the credentials."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rules_engine.simulator.api_error import not_found
from rules_engine.simulator.http import base_url, endpoint, json_response, simulator_of
from rules_engine.simulator.render import account_object

__all__ = ["routes"]


@endpoint
async def accounts(request: Request) -> Response:
    # ``?username=`` (sent by 1.5) is ignored: the credentials decide the account.
    sim = simulator_of(request)
    return json_response([account_object(sim.fleet, base_url(request))])


@endpoint
async def account_by_name(request: Request) -> Response:
    sim = simulator_of(request)
    if request.path_params["name"] != sim.fleet.account.name:
        raise not_found(f"no account named {request.path_params['name']}")
    return json_response(account_object(sim.fleet, base_url(request)))


@endpoint
async def account_by_id(request: Request) -> Response:
    sim = simulator_of(request)
    if request.path_params["account_id"] != sim.fleet.account.id:
        raise not_found(f"no account {request.path_params['account_id']}")
    return json_response(account_object(sim.fleet, base_url(request)))


routes = [
    Route("/access/accounts", accounts, methods=["GET"]),
    Route("/access/accountName/{name}", account_by_name, methods=["GET"]),
    Route("/access/account/{account_id}", account_by_id, methods=["GET"]),
]
