"""One place that sends HTTP requests to Conductor: retries, backoff, error mapping, JSON.

Retried: connect errors, timeouts, 5xx and 429 (``Retry-After`` honoured), with exponential
backoff and full jitter, bounded by attempts and by total time. A request that is not safe to
repeat (``idempotent=False``) is retried only when it certainly never took effect (connect
error, 429); otherwise the error is raised with ``in_doubt=True``.
"""

from __future__ import annotations

import email.utils
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

import httpx

from .. import jsonfast
from ..clock import Clock
from ..errors import (
    AuthenticationError,
    AuthorizationError,
    ConductorError,
    HTTPStatusError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
    TransportError,
)

__all__ = ["RetryPolicy", "HttpCaller", "decode_json"]

log = logging.getLogger("rules_engine.conductor")

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on one request."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    total_budget: float = 300.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff for the ``attempt``-th retry (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return rng.uniform(ceiling / 2, ceiling)


def _retry_after(response: httpx.Response, now: datetime) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _error_fields(response: httpx.Response) -> tuple[str | None, str | None]:
    """Conductor's ``description``/``message`` from a JSON or servlet-HTML error body."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text
        start, end = text.find("<h1>"), text.find("</h1>")
        if start != -1 and end > start:
            return text[start + 4 : end].strip() or None, None
        return None, (text.strip()[:200] or None)
    if isinstance(body, dict):
        description = body.get("description")
        message = body.get("message")
        return (
            str(description) if description is not None else None,
            str(message) if message is not None else None,
        )
    return None, None


def _status_error(response: httpx.Response, url: str, in_doubt: bool = False) -> HTTPStatusError:
    description, message = _error_fields(response)
    code = response.status_code
    error: HTTPStatusError
    if code == 401:
        error = AuthenticationError(code, url, description, message, "the username or password was rejected")
    elif code == 403:
        error = AuthorizationError(code, url, description, message, "the credentials lack authority for this")
    elif code == 404:
        error = NotFoundError(code, url, description, message)
    elif code == 429:
        error = RateLimitedError(code, url, description, message, "rate limited; retries exhausted")
    elif code >= 500:
        error = ServerError(code, url, description, message)
    else:
        error = RequestRejectedError(code, url, description, message)
    error.in_doubt = in_doubt
    return error


class HttpCaller:
    """Sends requests through one pooled :class:`httpx.AsyncClient` and decodes JSON bodies."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._rng = rng or random.Random()
        self.retries = 0

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool = True,
        expect_body: bool = True,
        parse: Callable[[Any], T] | None = None,
        parse_content: Callable[[bytes], T] | None = None,
    ) -> Any:
        """Send one request with retries and return ``parse(body)`` (or the decoded JSON body), or
        ``parse_content(bytes)`` of the undecoded body when that is given (it decodes the JSON,
        with :func:`decode_json` for anything it does not read itself).

        An empty body decodes to ``None`` when ``expect_body`` is false. For an idempotent
        request a malformed body (bad JSON, or ``parse`` raising :class:`ProtocolError`) is
        retried like a 5xx, since a truncated or garbled answer is usually transient.
        """
        policy = self._retry
        started = self._clock.now()
        attempt = 0
        while True:
            attempt += 1
            delay: float | None = None
            failure: ConductorError
            try:
                response = await self._client.request(method, url, params=params, json=json_body)
            except httpx.ConnectError as exc:
                failure = TransportError(f"cannot connect to {url}: {exc}")
                delay = policy.backoff(attempt, self._rng)
            except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                kind = "timed out" if isinstance(exc, httpx.TimeoutException) else f"failed ({type(exc).__name__})"
                failure = TransportError(f"request to {url} {kind}: {exc}".rstrip(": "))
                if idempotent or isinstance(exc, httpx.ConnectTimeout):
                    delay = policy.backoff(attempt, self._rng)
                else:
                    failure.in_doubt = True
            else:
                code = response.status_code
                if 200 <= code < 300:
                    try:
                        if parse_content is not None:
                            return parse_content(response.content)
                        body = decode_json(response.content, url, expect_body)
                        return parse(body) if parse is not None else body
                    except ProtocolError as exc:
                        failure = exc
                        if idempotent:
                            delay = policy.backoff(attempt, self._rng)
                        else:
                            failure.in_doubt = True
                elif code == 429:
                    failure = _status_error(response, url)
                    retry_after = _retry_after(response, self._clock.now())
                    delay = policy.backoff(attempt, self._rng)
                    if retry_after is not None:
                        delay = max(delay, min(retry_after, policy.max_retry_after))
                elif code >= 500:
                    failure = _status_error(response, url, in_doubt=not idempotent)
                    if idempotent:
                        delay = policy.backoff(attempt, self._rng)
                else:
                    raise _status_error(response, url)
            elapsed = (self._clock.now() - started).total_seconds()
            if delay is None or attempt >= policy.max_attempts or elapsed + delay > policy.total_budget:
                raise failure
            self.retries += 1
            log.warning(
                "conductor request failed, retrying",
                extra={"url": url, "attempt": attempt, "delay_s": round(delay, 3), "error": str(failure)},
            )
            await self._clock.sleep(delay)


def decode_json(content: bytes, url: str, expect_body: bool = True) -> Any:
    """A response body's JSON. An empty or malformed body is a :class:`ProtocolError`, or
    ``None`` when ``expect_body`` is false."""
    if not content.strip():
        if expect_body:
            raise ProtocolError("empty response body where JSON was expected", url)
        return None
    try:
        return jsonfast.loads(content)
    except ValueError as exc:
        if not expect_body:
            return None
        raise ProtocolError(f"response body is not JSON ({exc})", url) from exc
