"""HTTP plumbing shared by the route modules: JSON responses, Basic auth, request faults, errors."""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from rules_engine.simulator.api_error import ApiError, bad_request

if TYPE_CHECKING:
    from rules_engine.simulator.simulator import Simulator

__all__ = [
    "JSON_MEDIA_TYPE",
    "json_response",
    "error_response",
    "endpoint",
    "simulator_of",
    "base_url",
    "read_json",
    "int_param",
]

JSON_MEDIA_TYPE = "application/json;charset=UTF-8"
Handler = Callable[[Request], Awaitable[Response]]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=status, headers=headers, media_type=JSON_MEDIA_TYPE)


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers or None)


def simulator_of(request: Request) -> Simulator:
    return request.app.state.simulator  # type: ignore[no-any-return]


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


async def read_json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError as exc:
        raise bad_request(f"the body is not JSON: {exc}") from exc


def int_param(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_request(f"{name} must be an integer") from exc
    if value < 1:
        raise bad_request(f"{name} must be at least 1")
    return value


def _authorized(request: Request, simulator: Simulator) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, sep, password = decoded.partition(":")
    account = simulator.config.account
    return bool(sep) and (
        secrets.compare_digest(username.encode(), account.username.encode())
        & secrets.compare_digest(password.encode(), account.password.encode())
    )


async def _hold(seconds: float, stopping: threading.Event) -> None:
    """Sleep ``seconds`` of real time, returning early when the server is stopping."""
    deadline = time.monotonic() + seconds
    while not stopping.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        await asyncio.sleep(min(remaining, 0.05))


def endpoint(handler: Handler) -> Handler:
    """Wrap a handler: Basic auth (401), request faults (not on /_sim/), ApiError -> JSON body."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        simulator = simulator_of(request)
        if not _authorized(request, simulator):
            return json_response(
                {"description": "Unauthorized", "message": "Bad credentials"},
                401,
                {"WWW-Authenticate": 'Basic realm="Conductor simulator"'},
            )
        stopping: threading.Event = request.app.state.stopping
        decision = simulator.injector.for_request(request.url.path)
        if decision.latency_s:
            await _hold(decision.latency_s, stopping)
        if decision.hold_s is not None:
            await _hold(decision.hold_s, stopping)
            return json_response({"description": "Gateway Timeout", "message": "simulated timeout"}, 504)
        if decision.status == 429:
            headers = {"Retry-After": str(decision.retry_after_s or 0)}
            return json_response({"description": "Too Many Requests", "message": "simulated rate limit"}, 429, headers)
        if decision.status is not None:
            return json_response({"description": "Server Error", "message": "simulated failure"}, decision.status)
        try:
            return await handler(request)
        except ApiError as error:
            return error_response(error)

    return wrapped
