"""The ASGI application: /access, /networkAsset, /clientEdge and /_sim on one origin."""

from __future__ import annotations

import threading

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from rules_engine.simulator import routes_access, routes_assets, routes_downlinks, routes_sim, routes_uplinks
from rules_engine.simulator.http import json_response
from rules_engine.simulator.simulator import Simulator

__all__ = ["create_app"]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    description = {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error")
    return json_response({"description": description, "message": f"{request.method} {request.url.path}"}, status)


def create_app(simulator: Simulator) -> Starlette:
    """An ASGI app serving ``simulator``; ``app.state.simulator`` gives it back.

    ``app.state.stopping`` (a threading.Event) releases requests held by the timeout fault.
    """
    app = Starlette(
        routes=[
            *routes_access.routes,
            *routes_assets.routes,
            *routes_uplinks.routes,
            *routes_downlinks.routes,
            *routes_sim.routes,
        ],
        exception_handlers={404: _http_error, 405: _http_error},
    )
    app.state.simulator = simulator
    app.state.stopping = threading.Event()
    return app
