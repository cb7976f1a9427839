"""ClientEdge uplink data: ``/data/uplinkPayload/...`` events pages, mostRecentEvents, single events,
and ``/module/{addr}/routes``."""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rules_engine.simulator import _invented as inv
from rules_engine.simulator._timeutil import fmt_ms, fmt_query_time, parse_ms
from rules_engine.simulator.api_error import ApiError, bad_request, not_found
from rules_engine.simulator.fleet import canonical
from rules_engine.simulator.http import base_url, endpoint, int_param, json_response, simulator_of
from rules_engine.simulator.render import uplink_result
from rules_engine.simulator.simulator import Simulator
from rules_engine.simulator.store import SubjectKey

__all__ = ["routes", "subject_key", "parse_window"]


def subject_key(sim: Simulator, subject_type: str, subject_id: str) -> SubjectKey:
    fleet = sim.fleet
    if subject_type == "applicationToken":
        if canonical(subject_id) in fleet.token_index:
            return ("applicationToken", canonical(subject_id))
        raise not_found(f"unknown application token {subject_id}")
    if subject_type == "node" or (subject_type == "lte" and inv.LTE_SUBJECT_ALIAS):
        if fleet.module(subject_id) is not None or fleet.gateway(subject_id) is not None:
            return ("node", canonical(subject_id))
        raise not_found(f"unknown node {subject_id}")
    if subject_type == "networkToken":
        if fleet.net_token(subject_id) is not None:
            return ("networkToken", canonical(subject_id))
        raise not_found(f"unknown network token {subject_id}")
    if subject_type == "accountId":
        if canonical(subject_id) == canonical(fleet.account.id):
            return ("accountId", canonical(subject_id))
        raise ApiError(403, "Forbidden", f"no authority over account {subject_id}")
    raise not_found(f"unsupported subject type {subject_type}")


def parse_window(sim: Simulator, stop: str, start: str) -> tuple[int, int]:
    """Parse ``{STOP}/{START}``; a stop beyond server now + tolerance is rejected (INVENTED 400)."""
    try:
        stop_ms, start_ms = parse_ms(stop), parse_ms(start)
    except ValueError as exc:
        raise bad_request(f"bad time in path (want YYYY-MM-DDTHH:MM:SS.mmm): {exc}") from exc
    limit = sim._server_ms() + int(sim.config.service.future_stop_tolerance_s * 1000)
    if stop_ms > limit:
        raise ApiError(
            inv.FUTURE_STOP_STATUS,
            "Bad Request",
            f"stop time {stop} is in the future (server time {fmt_ms(sim._server_ms())})",
        )
    if start_ms > stop_ms:
        raise bad_request("the stop time (first) must not be before the start time (second)")
    return start_ms, stop_ms


def _encode_page(position: int, asof: int, query: int) -> str:
    raw = json.dumps({"v": inv.PAGE_ID_VERSION, "p": position, "a": asof, "q": query}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_page(page_id: str, query: int) -> tuple[int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(page_id + "=" * (-len(page_id) % 4)))
        if data["v"] != inv.PAGE_ID_VERSION or data["q"] != query:
            raise ValueError("page id of another query")
        return int(data["p"]), int(data["a"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise bad_request(f"invalid pageId {page_id!r}") from exc


def _malformed(sim: Simulator, page: dict[str, Any]) -> Response | None:
    kind = sim.injector.malformed()
    if kind is None:
        return None
    if kind == "missing_uuid" and page["results"]:
        page["results"][0].pop("uuid", None)
        return json_response(page)
    if kind == "invalid_json":
        text = json.dumps(page, separators=(",", ":"))
        return Response(text[: max(1, len(text) // 2)].encode(), media_type="application/json;charset=UTF-8")
    page.pop("results", None)
    return json_response(page)


@endpoint
async def events(request: Request) -> Response:
    sim = simulator_of(request)
    p = request.path_params
    subject_type, subject_id = p["subject_type"], p["subject_id"]
    key = subject_key(sim, subject_type, subject_id)
    start_ms, stop_ms = parse_window(sim, p["stop"], p["start"])
    service = sim.config.service
    limit = min(int_param(request, "maxResults", service.page_size) or service.page_size, service.max_page_size)
    query = zlib.crc32(f"{key[0]}|{key[1]}|{start_ms}|{stop_ms}".encode())
    page_id = request.query_params.get("pageId")
    base = base_url(request)
    with sim.locked():
        asof = sim._server_ms()
        before = None
        if page_id:
            before, asof = _decode_page(page_id, query)
        records, next_position = sim.store.window(key, start_ms, stop_ms, asof, limit, before)
        results = [uplink_result(sim.fleet, sim.factory, r, base) for r in records]
        writes = [r.visible_ms for r in records]
        now = sim._server_ms()
    page = {
        "queryUrl": {"href": f"{base}{request.url.path}"},
        "subjectType": subject_type,
        "subject": subject_id,
        "queryTime": fmt_query_time(now),
        "maxWTime": fmt_ms(max(writes)) if writes else None,
        "minWTime": fmt_ms(min(writes)) if writes else None,
        "resultCount": len(results),
        "moreRecordsExist": next_position is not None,
        "nextPageId": _encode_page(next_position, asof, query) if next_position is not None else None,
        "results": results,
    }
    return _malformed(sim, page) or json_response(page)


@endpoint
async def most_recent(request: Request) -> Response:
    sim = simulator_of(request)
    p = request.path_params
    key = subject_key(sim, p["subject_type"], p["subject_id"])
    service = sim.config.service
    limit = min(int_param(request, "maxResults", service.most_recent_default) or 1, service.max_page_size)
    base = base_url(request)
    with sim.locked():
        records = sim.store.most_recent(key, sim._server_ms(), limit)
        page = {"results": [uplink_result(sim.fleet, sim.factory, r, base) for r in records]}
    return _malformed(sim, page) or json_response(page)


@endpoint
async def single_event(request: Request) -> Response:
    sim = simulator_of(request)
    p = request.path_params
    try:
        time_ms = parse_ms(p["time"])
    except ValueError as exc:
        raise bad_request(f"bad time {p['time']}") from exc
    with sim.locked():
        record = sim.store.find(p["uuid"], time_ms)
        if record is None or record.visible_ms > sim._server_ms():
            raise not_found(f"no uplink event {p['uuid']} at {p['time']}")
        return json_response(uplink_result(sim.fleet, sim.factory, record, base_url(request)))


@endpoint
async def module_routes(request: Request) -> Response:
    sim = simulator_of(request)
    return json_response(sim.routes(request.path_params["address"]))


routes = [
    Route("/clientEdge/data/uplinkPayload/{subject_type}/{subject_id}/mostRecentEvents", most_recent, methods=["GET"]),
    Route("/clientEdge/data/uplinkPayload/event/{uuid}/{time}", single_event, methods=["GET"]),
    Route(
        "/clientEdge/data/uplinkPayload/{subject_type}/{subject_id}/events/{stop}/{start}", events, methods=["GET"]
    ),
    Route("/clientEdge/module/{address}/routes", module_routes, methods=["GET"]),
]
