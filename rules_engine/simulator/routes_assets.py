"""NetworkAsset API: application tokens (list, get, INVENTED create), network tokens, gateways, modules."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rules_engine.simulator import _invented as inv
from rules_engine.simulator.api_error import ApiError, bad_request, not_found
from rules_engine.simulator.fleet import canonical
from rules_engine.simulator.http import base_url, endpoint, json_response, read_json, simulator_of
from rules_engine.simulator.render import app_token_object, gateway_object, module_object, network_token_object
from rules_engine.simulator.simulator import Simulator

__all__ = ["routes"]


def _check_account(request: Request, sim: Simulator) -> None:
    account_id = request.query_params.get("accountId")
    if account_id is not None and account_id != sim.fleet.account.id:
        raise ApiError(403, "Forbidden", f"no authority over account {account_id}")


@endpoint
async def app_tokens(request: Request) -> Response:
    sim = simulator_of(request)
    _check_account(request, sim)
    with sim.locked():
        base = base_url(request)
        return json_response([app_token_object(sim.fleet, i, base) for i in range(len(sim.fleet.tokens))])


@endpoint
async def app_token(request: Request) -> Response:
    sim = simulator_of(request)
    with sim.locked():
        index = sim.fleet.token_index.get(canonical(request.path_params["hash"]))
        if index is None:
            raise not_found(f"unknown application token {request.path_params['hash']}")
        return json_response(app_token_object(sim.fleet, index, base_url(request)))


@endpoint
async def create_app_token(request: Request) -> Response:
    """INVENTED (no public source): ``{"account": {"href": ...}, "tokenName": name}`` -> 201 + token."""
    sim = simulator_of(request)
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("tokenName"), str) or not body["tokenName"].strip():
        raise bad_request('body must be {"account": {"href": ..., "desc": ""}, "tokenName": "<name>"}')
    account = body.get("account")
    href = account.get("href") if isinstance(account, dict) else None
    if href is not None and str(href).rstrip("/").split("/")[-1] != sim.fleet.account.id:
        raise ApiError(403, "Forbidden", f"no authority over account {href}")
    token = sim.add_app_token(body["tokenName"].strip())
    with sim.locked():
        index = sim.fleet.token_index[token.hash]
        return json_response(app_token_object(sim.fleet, index, base_url(request)), inv.CREATED_STATUS)


@endpoint
async def network_tokens(request: Request) -> Response:
    sim = simulator_of(request)
    _check_account(request, sim)
    base = base_url(request)
    return json_response([network_token_object(sim.fleet, i, base) for i in range(len(sim.fleet.net_tokens))])


@endpoint
async def network_token(request: Request) -> Response:
    sim = simulator_of(request)
    index = sim.fleet.net_token(request.path_params["hash"])
    if index is None:
        raise not_found(f"unknown network token {request.path_params['hash']}")
    return json_response(network_token_object(sim.fleet, index, base_url(request)))


@endpoint
async def gateways(request: Request) -> Response:
    sim = simulator_of(request)
    _check_account(request, sim)
    base = base_url(request)
    return json_response([gateway_object(sim.fleet, g, base) for g in range(len(sim.fleet.gateways))])


@endpoint
async def gateway(request: Request) -> Response:
    sim = simulator_of(request)
    index = sim.fleet.gateway(request.path_params["address"])
    if index is None:
        raise not_found(f"unknown gateway {request.path_params['address']}")
    return json_response(gateway_object(sim.fleet, index, base_url(request)))


@endpoint
async def modules(request: Request) -> Response:
    sim = simulator_of(request)
    _check_account(request, sim)
    base = base_url(request)
    with sim.locked():
        fleet = sim.fleet
        return json_response([module_object(fleet, sim.factory, m, base) for m in range(len(fleet.module_addresses))])


@endpoint
async def module(request: Request) -> Response:
    sim = simulator_of(request)
    with sim.locked():
        index = sim.fleet.module(request.path_params["address"])
        if index is None:
            raise not_found(f"unknown module {request.path_params['address']}")
        return json_response(module_object(sim.fleet, sim.factory, index, base_url(request)))


routes = [
    Route("/networkAsset/applicationTokens", app_tokens, methods=["GET"]),
    Route("/networkAsset/applicationTokens", create_app_token, methods=["POST"]),
    Route("/networkAsset/applicationToken/{hash}", app_token, methods=["GET"]),
    Route("/networkAsset/networkTokens", network_tokens, methods=["GET"]),
    Route("/networkAsset/networkToken/{hash}", network_token, methods=["GET"]),
    Route("/networkAsset/gateways", gateways, methods=["GET"]),
    Route("/networkAsset/gateway/{address}", gateway, methods=["GET"]),
    Route("/networkAsset/modules", modules, methods=["GET"]),
    Route("/networkAsset/module/{address}", module, methods=["GET"]),
]
