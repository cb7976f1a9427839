"""The async Conductor client: one pooled :class:`httpx.AsyncClient`, Basic auth, retries.

    async with ConductorClient("me@example.com", "secret") as conductor:
        async for uplink in conductor.uplinks(SubjectType.APP_TOKEN, token, start, stop):
            ...
        command = await conductor.multicast(token, b"\\x01\\x02", gateways=["$101$0-0-0-db935317c"])

Works unchanged against the real service and the bundled simulator (``ConductorURLs.single_origin``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Iterable
from urllib.parse import quote

import httpx

from ..clock import Clock, SystemClock, utc
from ..errors import InvalidRequestError, ProtocolError
from . import _wire
from ._downlinks import DownlinkOptions, broadcast_body, multicast_body, unicast_body
from ._http import HttpCaller, RetryPolicy
from ._uplink_page import parse_uplink_page_content
from .addresses import app_token_node_address
from .models import (
    Account,
    AppToken,
    CommandStatus,
    Gateway,
    IssuedCommand,
    Module,
    NetworkToken,
    RouteEvent,
    SubjectType,
    Uplink,
    UplinkPage,
)
from .timefmt import format_time

__all__ = ["ConductorClient", "ConductorURLs"]

#: Conductor rejects a stop time in the future; stay this far behind "now".
STOP_SLACK = timedelta(seconds=1)


@dataclass(frozen=True)
class ConductorURLs:
    """Base URLs of the three Conductor APIs."""

    client_edge: str = "https://clientedge-conductor.link-labs.com/clientEdge"
    network_asset: str = "https://networkasset-conductor.link-labs.com/networkAsset"
    access: str = "https://access-conductor.link-labs.com/access"

    @classmethod
    def production(cls) -> ConductorURLs:
        return cls()

    @classmethod
    def single_origin(cls, base: str) -> ConductorURLs:
        """All three APIs under one origin, as the simulator serves them."""
        base = base.rstrip("/")
        return cls(f"{base}/clientEdge", f"{base}/networkAsset", f"{base}/access")


def _segment(value: str) -> str:
    """One path segment, with ``$`` and ``!`` percent-encoded as Conductor's own captures show."""
    return quote(value, safe="-._~")


class ConductorClient:
    """Async client for Conductor's ClientEdge, NetworkAsset and Access APIs.

    ``transport`` (an httpx transport), ``clock`` and ``rng`` are injectable so tests can run
    against an in-process app, never sleep, and get repeatable jitter.
    """

    def __init__(
        self,
        username: str,
        password: str,
        *,
        urls: ConductorURLs | None = None,
        account_name: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        page_size: int | None = None,
        chunk: timedelta = timedelta(hours=1),
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        max_connections: int = 20,
    ) -> None:
        if chunk <= timedelta(0):
            raise InvalidRequestError(f"chunk must be a positive duration, got {chunk}")
        self.urls = urls or ConductorURLs.production()
        self.account_name = account_name
        self.page_size = page_size
        self.chunk = chunk
        self.clock: Clock = clock or SystemClock()
        #: How far behind "now" a query stops (Conductor rejects a stop time ahead of its clock).
        self.stop_slack: timedelta = STOP_SLACK
        self._http_client = httpx.AsyncClient(
            auth=httpx.BasicAuth(username, password),
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"Accept": "application/json", "User-Agent": "rules-engine"},
        )
        self._http = HttpCaller(self._http_client, self.clock, retry, rng)
        self._account: Account | None = None

    async def __aenter__(self) -> ConductorClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http_client.aclose()

    @property
    def retries(self) -> int:
        """How many requests were retried so far (for metrics)."""
        return self._http.retries

    # -- account and assets -------------------------------------------------------------

    async def account(self) -> Account:
        """The account of these credentials (``/accountName/{name}`` or the first of ``/accounts``)."""
        if self._account is not None:
            return self._account
        if self.account_name:
            url = f"{self.urls.access}/accountName/{_segment(self.account_name)}"
            self._account = await self._http.request("GET", url, parse=lambda b: _wire.parse_account(b, url))
            return self._account
        url = f"{self.urls.access}/accounts"
        accounts = await self._http.request("GET", url, parse=lambda b: _wire.expect_list(b, url, "accounts"))
        if not accounts:
            raise InvalidRequestError(f"no account is associated with these credentials ({url} returned [])")
        self._account = _wire.parse_account(accounts[0], url)
        return self._account

    async def _list(self, plural: str, parse: Any) -> list[Any]:
        account = await self.account()
        url = f"{self.urls.network_asset}/{plural}"
        params = {"accountId": account.id, "lifecycle": "registered"}
        return await self._http.request(
            "GET", url, params=params,
            parse=lambda body: [parse(item, url) for item in _wire.expect_list(body, url, plural)],
        )

    async def _get(self, singular: str, key: str, parse: Any) -> Any:
        url = f"{self.urls.network_asset}/{singular}/{_segment(key)}"
        return await self._http.request("GET", url, parse=lambda body: parse(body, url))

    async def app_tokens(self) -> list[AppToken]:
        return await self._list("applicationTokens", _wire.parse_app_token)

    async def app_token(self, token: str) -> AppToken:
        return await self._get("applicationToken", token, _wire.parse_app_token)

    async def create_app_token(self, name: str) -> AppToken:
        """Create an application token.

        The REST call behind this is not documented publicly; this uses the simulator's
        proposal (``POST /applicationTokens``). Kept behind this one method on purpose.
        """
        account = await self.account()
        url = f"{self.urls.network_asset}/applicationTokens"
        body = {"account": {"href": account.id, "desc": ""}, "tokenName": name}
        return await self._http.request(
            "POST", url, json_body=body, idempotent=False, parse=lambda b: _wire.parse_app_token(b, url)
        )

    async def network_tokens(self) -> list[NetworkToken]:
        return await self._list("networkTokens", _wire.parse_network_token)

    async def gateways(self) -> list[Gateway]:
        return await self._list("gateways", _wire.parse_gateway)

    async def gateway(self, address: str) -> Gateway:
        return await self._get("gateway", address, _wire.parse_gateway)

    async def modules(self) -> list[Module]:
        return await self._list("modules", _wire.parse_module)

    async def module(self, address: str) -> Module:
        return await self._get("module", address, _wire.parse_module)

    async def module_routes(self, address: str) -> list[str]:
        """Link addresses through which Conductor would send a unicast to this module."""
        url = f"{self.urls.client_edge}/module/{_segment(address)}/routes"
        routes = await self._http.request("GET", url, parse=lambda b: _wire.expect_list(b, url, "routes"))
        return [str(route) for route in routes]

    # -- uplinks ----------------------------------------------------------------------------

    def latest_stop(self) -> datetime:
        """The latest stop time Conductor accepts: now minus ``stop_slack`` (one second unless a
        caller learnt that Conductor's clock is further behind)."""
        return self.clock.now() - self.stop_slack

    async def uplink_pages(
        self,
        subject_type: SubjectType | str,
        subject_id: str,
        start: datetime,
        stop: datetime,
        *,
        known: _wire.KnownFilter | None = None,
    ) -> AsyncIterator[UplinkPage]:
        """Every page of one ``/events/{stop}/{start}`` query, following ``pageId`` to the end.

        ``stop`` is clamped to :meth:`latest_stop`. No chunking: see :meth:`uplinks`.
        ``known(identities) -> uuids``: results it names are dropped unparsed and counted in
        each page's ``skipped`` (a poller's overlap re-reads; see ``pipeline.dedupe.known_filter``).
        """
        subject = SubjectType(subject_type).value
        start, stop = utc(start), min(utc(stop), self.latest_stop())
        if stop <= start:
            return
        url = (
            f"{self.urls.client_edge}/data/uplinkPayload/{subject}/{_segment(subject_id)}"
            f"/events/{format_time(stop)}/{format_time(start)}"
        )
        page_id: str | None = None
        seen_page_ids: set[str] = set()
        while True:
            params: dict[str, Any] = {}
            if self.page_size:
                params["maxResults"] = self.page_size
            if page_id:
                params["pageId"] = page_id
            page: UplinkPage = await self._http.request(
                "GET", url, params=params or None,
                parse_content=lambda content: parse_uplink_page_content(content, url, known=known),
            )
            yield page
            if not page.more or page.next_page_id is None:
                return
            if page.next_page_id in seen_page_ids:
                raise ProtocolError(f"paging loops: pageId {page.next_page_id!r} came back twice", url)
            seen_page_ids.add(page.next_page_id)
            page_id = page.next_page_id

    async def uplinks(
        self,
        subject_type: SubjectType | str,
        subject_id: str,
        start: datetime,
        stop: datetime | None = None,
        *,
        chunk: timedelta | None = None,
    ) -> AsyncIterator[Uplink]:
        """Uplinks of a subject in ``[start, stop]``, oldest chunk first, each uuid once.

        Long ranges are split into chunks (default one hour) so a catch-up after an outage is
        a series of bounded queries. Within a chunk, Conductor's order is kept.
        """
        step = chunk or self.chunk
        start = utc(start)
        stop = min(utc(stop) if stop else self.latest_stop(), self.latest_stop())
        seen: set[str] = set()
        window_start = start
        while window_start < stop:
            window_stop = min(window_start + step, stop)
            async for page in self.uplink_pages(subject_type, subject_id, window_start, window_stop):
                for uplink in page.uplinks:
                    if uplink.uuid not in seen:
                        seen.add(uplink.uuid)
                        yield uplink
            window_start = window_stop

    async def recent(self, subject_type: SubjectType | str, subject_id: str, minutes: float) -> list[Uplink]:
        """Uplinks of the last ``minutes``, sorted by time (oldest first)."""
        stop = self.latest_stop()
        start = stop - timedelta(minutes=minutes)
        found = [uplink async for uplink in self.uplinks(subject_type, subject_id, start, stop)]
        return sorted(found, key=lambda uplink: uplink.time)

    # -- downlinks --------------------------------------------------------------------------

    async def _issue(self, body: dict[str, Any]) -> IssuedCommand:
        url = f"{self.urls.client_edge}/issueCommand"
        return await self._http.request(
            "POST", url, json_body=body, idempotent=False, parse=lambda b: _wire.parse_issued_command(b, url)
        )

    async def multicast(
        self,
        app_token: str,
        payload: bytes | str,
        *,
        gateways: str | Iterable[str] | None = None,
        ttl_s: float = 60.0,
        port: int = 0,
        priority: int = 10,
    ) -> IssuedCommand:
        """Multicast to every device of an AppToken, or only through the given gateway(s).

        Conductor cannot acknowledge a multicast; track delivery with the engine's ack ledger.
        """
        options = DownlinkOptions(ttl_s=ttl_s, port=port, priority=priority)
        return await self._issue(multicast_body(app_token, payload, options, gateways))

    async def unicast(
        self,
        module: str,
        payload: bytes | str,
        *,
        gateway: str | None = None,
        acked: bool = True,
        ttl_s: float = 60.0,
        port: int = 0,
        priority: int = 10,
    ) -> IssuedCommand:
        """Send to one module (Conductor-acked by default), optionally pinned to one gateway."""
        options = DownlinkOptions(ttl_s=ttl_s, port=port, priority=priority)
        return await self._issue(unicast_body(module, payload, options, gateway, acked))

    async def gateway_broadcast(
        self, gateway: str, payload: bytes | str, *, ttl_s: float = 60.0, port: int = 0, priority: int = 10
    ) -> IssuedCommand:
        """Broadcast to every module listening to one gateway (unacked)."""
        options = DownlinkOptions(ttl_s=ttl_s, port=port, priority=priority)
        return await self._issue(broadcast_body(gateway, payload, options))

    async def command(self, issuance_id: str) -> IssuedCommand:
        url = f"{self.urls.client_edge}/issuedCommand/{_segment(issuance_id)}"
        return await self._http.request("GET", url, parse=lambda b: _wire.parse_issued_command(b, url))

    async def command_status(self, issuance_id: str) -> CommandStatus:
        url = f"{self.urls.client_edge}/issuedCommand/{_segment(issuance_id)}/status"
        return await self._http.request("GET", url, parse=lambda b: _wire.parse_status(b, url, issuance_id))

    async def route_events(self, issuance_id: str, link: str) -> tuple[RouteEvent, ...]:
        """Per-route state changes (``Issued`` … ``Sent``/``Expired``) of a command."""
        url = f"{self.urls.client_edge}/issuedCommand/{_segment(issuance_id)}/statusDetail/{_segment(link)}"
        return await self._http.request("GET", url, parse=lambda b: _wire.parse_route_events(b, url))

    async def cancel(self, issuance_id: str) -> None:
        url = f"{self.urls.client_edge}/command/{_segment(issuance_id)}"
        await self._http.request("DELETE", url, expect_body=False)

    async def past_commands(
        self, subject_type: SubjectType | str, subject_id: str, start: datetime, stop: datetime | None = None
    ) -> list[IssuedCommand]:
        """Commands issued to a subject in ``[start, stop]``. For an AppToken pass the token
        itself with ``SubjectType.APP_TOKEN``; it is sent as its ``$401$`` node address."""
        subject = SubjectType(subject_type)
        if subject is SubjectType.APP_TOKEN:
            subject, subject_id = SubjectType.NODE, app_token_node_address(subject_id)
        stop = min(utc(stop) if stop else self.latest_stop(), self.latest_stop())
        url = (
            f"{self.urls.client_edge}/commands/{subject.value}/{_segment(subject_id)}"
            f"/{format_time(stop)}/{format_time(utc(start))}"
        )
        return await self._http.request(
            "GET", url,
            parse=lambda body: [_wire.parse_issued_command(item, url) for item in _wire.expect_list(body, url, "commands")],
        )
