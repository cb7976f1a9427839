"""Error mapping and the retry policy, through an injected httpx transport and a manual clock.

Scripted transports are used here only for protocol corners the simulator has no reason to
produce (servlet HTML error pages, HTTP-date Retry-After); everything else runs against the
simulator in test_client_against_simulator.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from rules_engine.clock import ManualClock
from rules_engine.conductor import ConductorClient, ConductorURLs, RetryPolicy
from rules_engine.errors import (
    AuthenticationError,
    AuthorizationError,
    InvalidRequestError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
    TransportError,
)

BASE = "http://conductor.test"
TOKEN = "9a3e51c07b22d4f68e15"


def scripted(*steps: Callable[[httpx.Request], httpx.Response] | httpx.Response | Exception):
    """A transport answering each request with the next step; records the requests."""
    seen: list[httpx.Request] = []
    queue = list(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    return httpx.MockTransport(handler), seen


def make_client(transport: httpx.MockTransport, clock: ManualClock | None = None, **kwargs) -> ConductorClient:
    return ConductorClient(
        "user@example.com",
        "secret",
        urls=ConductorURLs.single_origin(BASE),
        transport=transport,
        clock=clock or ManualClock(),
        rng=random.Random(1),
        **kwargs,
    )


@pytest.mark.parametrize(
    ("status", "error", "fragment"),
    [
        (401, AuthenticationError, "username or password was rejected"),
        (403, AuthorizationError, "lack authority"),
        (404, NotFoundError, "HTTP 404"),
        (400, RequestRejectedError, "Bad Request: stop time in future"),
    ],
)
async def test_client_errors_are_typed_and_not_retried(status: int, error: type, fragment: str) -> None:
    body = {"description": "Bad Request", "message": "stop time in future"} if status == 400 else {}
    transport, seen = scripted(httpx.Response(status, json=body))
    async with make_client(transport) as client:
        with pytest.raises(error, match=fragment) as caught:
            await client.app_token(TOKEN)
    assert len(seen) == 1
    assert caught.value.status_code == status
    assert f"{BASE}/networkAsset/applicationToken/{TOKEN}" in str(caught.value)


async def test_servlet_html_error_page_is_read() -> None:
    html = "<html><body><h1>HTTP Status 400 - Invalid time</h1></body></html>"
    transport, _ = scripted(httpx.Response(400, text=html))
    async with make_client(transport) as client:
        with pytest.raises(RequestRejectedError, match="HTTP Status 400 - Invalid time"):
            await client.app_token(TOKEN)


async def test_5xx_and_timeouts_are_retried_with_growing_backoff() -> None:
    ok = httpx.Response(200, json={"hash": TOKEN, "tokenName": "t"})
    transport, seen = scripted(
        httpx.Response(500), httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.Response(503), ok
    )
    clock = ManualClock()
    async with make_client(transport, clock, retry=RetryPolicy(max_attempts=5, base_delay=1, max_delay=60)) as client:
        token = await client.app_token(TOKEN)
    assert token.hash == TOKEN and len(seen) == 5 and client.retries == 4
    # full jitter within [ceiling/2, ceiling] of 1, 2, 4, 8 seconds
    for delay, ceiling in zip(clock.slept, [1, 2, 4, 8]):
        assert ceiling / 2 <= delay <= ceiling


async def test_retry_budget_is_bounded() -> None:
    transport, seen = scripted(httpx.Response(502, json={"description": "Bad Gateway"}))
    async with make_client(transport, retry=RetryPolicy(max_attempts=3, base_delay=0.1)) as client:
        with pytest.raises(ServerError, match="HTTP 502") as caught:
            await client.app_token(TOKEN)
    assert len(seen) == 3 and not caught.value.in_doubt


async def test_total_time_budget_stops_retries_early() -> None:
    transport, seen = scripted(httpx.Response(500))
    clock = ManualClock()
    policy = RetryPolicy(max_attempts=100, base_delay=10, max_delay=10, total_budget=25)
    async with make_client(transport, clock, retry=policy) as client:
        with pytest.raises(ServerError):
            await client.app_token(TOKEN)
    # each wait is 5-10 s, so 25 s allow two to four of them, never the 99 attempts left
    assert 3 <= len(seen) <= 5
    assert sum(clock.slept) <= 25


async def test_429_honours_retry_after_seconds_and_http_date() -> None:
    clock = ManualClock()
    http_date = "Thu, 01 Jan 2026 00:00:40 GMT"  # 40 s after ManualClock's default start
    transport, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(429, headers={"Retry-After": http_date}),
        httpx.Response(200, json={"hash": TOKEN}),
    )
    async with make_client(transport, clock, retry=RetryPolicy(base_delay=0.01)) as client:
        await client.app_token(TOKEN)
    assert len(seen) == 3
    assert clock.slept[0] == pytest.approx(7)
    assert clock.slept[1] == pytest.approx(40 - 7, abs=0.01)


async def test_persistent_429_raises_rate_limited() -> None:
    transport, _ = scripted(httpx.Response(429, headers={"Retry-After": "1"}))
    async with make_client(transport, retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(RateLimitedError):
            await client.app_token(TOKEN)


async def test_issue_command_is_not_repeated_when_it_may_have_been_processed() -> None:
    transport, seen = scripted(httpx.ReadTimeout("no answer"))
    async with make_client(transport) as client:
        with pytest.raises(TransportError, match="timed out") as caught:
            await client.multicast(TOKEN, b"\x01")
    assert len(seen) == 1 and caught.value.in_doubt

    transport, seen = scripted(httpx.Response(500))
    async with make_client(transport) as client:
        with pytest.raises(ServerError) as caught:
            await client.multicast(TOKEN, b"\x01")
    assert len(seen) == 1 and caught.value.in_doubt


async def test_issue_command_is_retried_when_it_certainly_was_not_processed() -> None:
    transport, seen = scripted(
        httpx.ConnectError("refused"),
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(200, json={"issuanceId": "42", "issuanceTime": "2026-01-01T00:00:00.000"}),
    )
    async with make_client(transport) as client:
        command = await client.multicast(TOKEN, b"\x01")
    assert command.issuance_id == "42" and len(seen) == 3


async def test_malformed_get_body_is_retried_then_reported_with_url() -> None:
    transport, seen = scripted(httpx.Response(200, text="{not json"))
    async with make_client(transport, retry=RetryPolicy(max_attempts=2, base_delay=0.01)) as client:
        with pytest.raises(ProtocolError, match="not JSON") as caught:
            await client.app_token(TOKEN)
    assert len(seen) == 2 and caught.value.url.endswith(f"/applicationToken/{TOKEN}")


async def test_malformed_issue_command_answer_is_in_doubt() -> None:
    transport, seen = scripted(httpx.Response(200, json={"status": "ok"}))
    async with make_client(transport) as client:
        with pytest.raises(ProtocolError, match="issuanceId") as caught:
            await client.multicast(TOKEN, b"\x01")
    assert len(seen) == 1 and caught.value.in_doubt


async def test_uplink_query_path_order_time_format_and_stop_clamp() -> None:
    clock = ManualClock()
    empty = httpx.Response(200, json={"results": [], "moreRecordsExist": False, "nextPageId": None})
    transport, seen = scripted(empty)
    async with make_client(transport, clock, page_size=50) as client:
        start = clock.now() - timedelta(minutes=10)
        stop = clock.now() + timedelta(hours=1)  # in the future: must be clamped
        assert [u async for u in client.uplinks("applicationToken", TOKEN, start, stop)] == []
    path = seen[0].url.path
    assert path == (
        f"/clientEdge/data/uplinkPayload/applicationToken/{TOKEN}"
        "/events/2025-12-31T23:59:59.000/2025-12-31T23:50:00.000"
    )
    assert seen[0].url.params["maxResults"] == "50"
    assert seen[0].headers["Authorization"].startswith("Basic ")


async def test_long_ranges_are_split_into_chunks() -> None:
    clock = ManualClock()
    empty = httpx.Response(200, json={"results": [], "moreRecordsExist": False, "nextPageId": None})
    transport, seen = scripted(empty)
    async with make_client(transport, clock, chunk=timedelta(minutes=30)) as client:
        start = clock.now() - timedelta(hours=2)
        _ = [u async for u in client.uplinks("node", "$301$0-0-0-1", start)]
    assert len(seen) == 4
    assert "%24301%240-0-0-1" in str(seen[0].url)  # '$' percent-encoded as in the real capture


async def test_paging_loop_is_detected() -> None:
    loop = httpx.Response(200, json={"results": [], "moreRecordsExist": True, "nextPageId": "p1"})
    transport, _ = scripted(loop)
    async with make_client(transport) as client:
        with pytest.raises(ProtocolError, match="paging loops"):
            _ = [u async for u in client.uplinks("applicationToken", TOKEN, client.clock.now() - timedelta(minutes=5))]


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda c: c.multicast(TOKEN, b"\x01", port=128), "0 to 127"),
        (lambda c: c.multicast(TOKEN, b"\x01", port=-1), "0 to 127"),
        (lambda c: c.multicast("4f50454e", b"\x01"), "application token"),
        (lambda c: c.multicast(TOKEN, b""), "empty"),
        (lambda c: c.multicast(TOKEN, "zz"), "not hex"),
        (lambda c: c.multicast(TOKEN, b"\x01", gateways=["$301$0-0-0-1"]), "gateway node address"),
        (lambda c: c.unicast("$101$0-0-0-1", b"\x01"), "module node address"),
        (lambda c: c.multicast(TOKEN, b"\x01", ttl_s=0), "TTL"),
    ],
)
async def test_invalid_downlinks_are_refused_before_sending(call, fragment: str) -> None:
    transport, seen = scripted(httpx.Response(200, json={"issuanceId": "1"}))
    async with make_client(transport) as client:
        with pytest.raises(InvalidRequestError, match=fragment):
            await call(client)
    assert seen == []
