"""The admin HTTP server: ``/`` (the status page), ``/healthz`` and ``/metrics``. Loopback by
default; a token otherwise."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .errors import ConfigError

__all__ = ["create_admin_app", "check_admin_binding", "is_loopback"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_admin_binding(host: str, token: str | None) -> None:
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"admin.host is {host}, which is not loopback: set an admin token (environment variable named by "
            "admin.token_env, or admin.token_file) so /healthz and /metrics are not open to the network"
        )


def create_admin_app(
    health: Callable[[], dict[str, Any]],
    metrics: Callable[[], bytes],
    token: str | None,
    status_page: Callable[[], str] | None = None,
) -> Starlette:
    def authorised(request: Request) -> bool:
        if token is None:
            return True
        supplied = request.headers.get("authorization", "")
        if hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode()):
            return True
        # a browser cannot send a bearer header: the status page also takes ?token=
        return hmac.compare_digest(request.query_params.get("token", "").encode(), token.encode())

    async def page(request: Request) -> Response:
        if not authorised(request):
            return HTMLResponse("<p>Missing or wrong token: open this page as /?token=…</p>", status_code=401)
        if status_page is None:
            return HTMLResponse("<p>No status page.</p>", status_code=404)
        return HTMLResponse(status_page())

    async def healthz(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
        report = health()
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    async def metrics_endpoint(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
        return Response(metrics(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return Starlette(routes=[Route("/", page), Route("/healthz", healthz), Route("/metrics", metrics_endpoint)])
