"""The in-process simulator: lazy, deterministic catch-up to the clock, plus the ground-truth API.

Every public method first generates everything due up to the server clock (``clock.now()`` +
``faults.clock_skew_s``): uplinks from a heap of next-due times, downlink transmissions,
retries, expiries and ack replies, strictly in time order. With a ManualClock nothing happens
until the clock moves; with SystemClock it runs in real time.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from rules_engine.clock import Clock, SystemClock
from rules_engine.simulator._rng import Salt, h64
from rules_engine.simulator._timeutil import from_ms, to_ms
from rules_engine.simulator.api_error import not_found
from rules_engine.simulator.config import AppTokenConfig, DownlinkMode, FleetConfig
from rules_engine.simulator.downlinks import Command, DownlinkEngine
from rules_engine.simulator.faults import FaultInjector, Faults
from rules_engine.simulator.fleet import Fleet, canonical
from rules_engine.simulator.records import (
    AckReplyRecord,
    CommandRecord,
    DeliveryRecord,
    LossRecord,
    UplinkRecord,
)
from rules_engine.simulator.store import SubjectKey, Uplink, UplinkStore
from rules_engine.simulator.uplinks import UplinkFactory

__all__ = ["Simulator"]

_UPLINK = 0
_ACK = 1
_DOWNLINK = 2


class Simulator:
    """A simulated Conductor account and fleet. Thread-safe: one lock around all state."""

    def __init__(
        self, config: FleetConfig | None = None, *, clock: Clock | None = None, faults: Faults | None = None
    ) -> None:
        self.config = config if config is not None else FleetConfig.generate()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.RLock()
        self._injector = FaultInjector(self.config.seed, faults)
        now = self._server_ms()
        if self.config.start is not None:
            self.start_ms = to_ms(self.config.start)
        else:
            self.start_ms = now - int(self.config.history_s * 1000)
        self._horizon = self.start_ms
        self.fleet = Fleet(self.config, from_ms(self.start_ms))
        self.store = UplinkStore()
        self.factory = UplinkFactory(self.fleet, self.start_ms)
        self.downlinks = DownlinkEngine(self.fleet, self._schedule, self._recent_gateways)
        acct = ("accountId", canonical(self.config.account.id))
        self._module_keys = [
            (("applicationToken", self.fleet.tokens[self.fleet.module_token[m]].hash), ("node", canonical(a)), acct)
            for m, a in enumerate(self.fleet.module_addresses)
        ]
        self._gateway_keys = [
            (("node", canonical(g.address)), ("networkToken", g.network_token)) for g in self.fleet.gateways
        ]
        self._ack_counts: dict[int, int] = {}
        self._order = len(self.fleet.module_addresses)
        self._heap: list[tuple[Any, ...]] = [
            (self.factory.first_due(m), m, _UPLINK, m, 0) for m in range(len(self.fleet.module_addresses))
        ]
        heapq.heapify(self._heap)

    # -- clock --------------------------------------------------------------------------------
    def _server_ms(self) -> int:
        return to_ms(self.clock.now()) + int(self._injector.faults.clock_skew_s * 1000)

    def now(self) -> datetime:
        """The server clock: the simulator's clock plus ``faults.clock_skew_s``."""
        return from_ms(self._server_ms())

    def advance(self, seconds: float) -> datetime:
        """Advance a ManualClock (TypeError for other clocks) and catch up."""
        advance = getattr(self.clock, "advance", None)
        if advance is None:
            raise TypeError("advance() needs a clock with .advance() (ManualClock)")
        advance(seconds)
        self.catch_up()
        return self.now()

    @contextmanager
    def locked(self) -> Iterator[int]:
        """Hold the state lock after catching up; yields the effective server time in ms."""
        with self._lock:
            self._catch_up()
            yield self._horizon

    # -- generation ---------------------------------------------------------------------------
    def catch_up(self) -> int:
        """Generate everything due up to the server clock; returns the number of new uplinks."""
        with self._lock:
            return self._catch_up()

    def _schedule(self, due_ms: int, kind: str, args: tuple[Any, ...]) -> None:
        self._order += 1
        code = _ACK if kind == "ack" else _DOWNLINK
        heapq.heappush(self._heap, (due_ms, self._order, code, kind, args))

    def _catch_up(self) -> int:
        horizon = max(self._horizon, self._server_ms())
        self._horizon = horizon
        heap, factory, store = self._heap, self.factory, self.store
        faults = self._injector.faults
        before = len(store)
        while heap and heap[0][0] <= horizon:
            due, _, code, a, b = heapq.heappop(heap)
            if code == _UPLINK:
                record, next_due = factory.regular(len(store), a, b, due, faults)
                self._append(record)
                self._order += 1
                heapq.heappush(heap, (next_due, self._order, _UPLINK, a, b + 1))
            elif code == _ACK:
                command, m, gateway, payload = b
                n = self._ack_counts.get(m, 0)
                self._ack_counts[m] = n + 1
                record = factory.ack(len(store), m, n, due, gateway, payload, command.issuance_id, faults)
                self._append(record)
                self.downlinks.record_ack_reply(command, m, record)
            else:
                self.downlinks.handle(a, b, due)
        return len(store) - before

    def _append(self, record: Uplink) -> None:
        self.store.append(record, self._module_keys[record.module] + self._gateway_keys[record.gateway])
        self.downlinks.on_uplink(record)

    def _recent_gateways(self, m: int) -> list[int]:
        since = self._horizon - int(self.config.service.route_window_s * 1000)
        key = ("node", canonical(self.fleet.module_addresses[m]))
        gateways: list[int] = []
        for record in self.store.module_recent(key, since):
            if record.time_ms <= self._horizon and record.gateway not in gateways:
                gateways.append(record.gateway)
        return gateways

    # -- runtime control ----------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        return self._injector.faults

    @property
    def injector(self) -> FaultInjector:
        return self._injector

    def set_faults(self, faults: Faults | None = None, **changes: Any) -> Faults:
        """Replace the faults (``Faults()`` clears them) and/or change some fields."""
        with self._lock:
            self._catch_up()
            base = faults if faults is not None else self._injector.faults
            self._injector.faults = Faults.model_validate({**base.model_dump(), **changes})
            return self._injector.faults

    def set_downlink_mode(self, module: str, mode: DownlinkMode | int) -> None:
        with self.locked() as now:
            m = self.fleet.module(module)
            if m is None:
                raise not_found(f"unknown module {module}")
            self.fleet.set_mode(m, mode, now)

    def add_app_token(self, name: str, hash: str | None = None) -> AppTokenConfig:
        with self.locked():
            if hash is None:
                n = len(self.fleet.tokens)
                while True:
                    hash = f"{h64(self.config.seed, n, Salt.CMD, 99) >> 44:020x}"
                    if hash not in self.fleet.token_index:
                        break
                    n += 1
            token = AppTokenConfig(hash=hash.lower(), name=name)
            if token.hash in self.fleet.token_index:
                raise ValueError(f"application token {token.hash} exists")
            self.fleet.add_token(token)
            return token

    # -- identity shortcuts -------------------------------------------------------------------
    @property
    def username(self) -> str:
        return self.config.account.username

    @property
    def password(self) -> str:
        return self.config.account.password

    @property
    def app_tokens(self) -> list[str]:
        return [t.hash for t in self.fleet.tokens]

    # -- ground truth -------------------------------------------------------------------------
    def _uplink_record(self, record: Uplink) -> UplinkRecord:
        fleet = self.fleet
        return UplinkRecord(
            uuid=record.uuid,
            seq=record.seq,
            app_token=fleet.tokens[fleet.module_token[record.module]].hash,
            network_token=fleet.gateways[record.gateway].network_token,
            account_id=self.config.account.id,
            module=fleet.module_addresses[record.module],
            gateway=fleet.gateways[record.gateway].address,
            port=record.port,
            payload_hex=record.pld.hex().upper(),
            time=from_ms(record.time_ms),
            visible_from=from_ms(record.visible_ms),
            kind=record.kind,  # type: ignore[arg-type]
            ack_of=record.ack_of,
            signal_metadata=record.signal,
        )

    def uplinks(
        self,
        *,
        app_token: str | None = None,
        module: str | None = None,
        gateway: str | None = None,
        port: int | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        visible_only: bool = False,
    ) -> list[UplinkRecord]:
        """Every uplink generated so far, oldest first; ``since``/``until`` bound ``time`` inclusively.

        ``visible_only``: only those a query made now could see (``visible_from <= now``).
        """
        with self.locked():
            key: SubjectKey | None = None
            if module is not None:
                key = ("node", canonical(module))
            elif gateway is not None:
                key = ("node", canonical(gateway))
            elif app_token is not None:
                key = ("applicationToken", canonical(app_token))
            asof = self._server_ms()
            result = []
            selected = self.store.select(
                key, to_ms(since) if since else None, to_ms(until) if until else None
            )
            for record in selected:
                if visible_only and record.visible_ms > asof:
                    continue
                if port is not None and record.port != port:
                    continue
                if kind is not None and record.kind != kind:
                    continue
                fleet = self.fleet
                if app_token is not None and fleet.tokens[fleet.module_token[record.module]].hash != canonical(app_token):
                    continue
                if gateway is not None and canonical(fleet.gateways[record.gateway].address) != canonical(gateway):
                    continue
                result.append(self._uplink_record(record))
            return result

    def command_record(self, command: Command) -> CommandRecord:
        fleet = self.fleet
        plan = command.plan
        addresses = fleet.module_addresses
        return CommandRecord(
            issuance_id=command.issuance_id,
            kind=command.kind,  # type: ignore[arg-type]
            issued_at=from_ms(command.issued_ms),
            expires_at=from_ms(command.expires_ms),
            app_token=fleet.tokens[plan.token].hash if plan.token is not None else None,
            targets=list(plan.targets),
            routes=[r.link for r in command.routes],
            payload_hex=plan.payload.hex().upper(),
            port=plan.port,
            ttl_s=plan.ttl_ms / 1000,
            priority=plan.priority,
            acked=plan.acked,
            status=command.status(),
            final_at=from_ms(command.final_ms) if command.final_ms is not None else None,
            cancelled=command.cancelled,
            eligible=[addresses[m] for m in command.eligible],
            deliveries=[
                DeliveryRecord(module=addresses[m], gateway=fleet.gateways[g].address, route=link, time=from_ms(t))
                for m, (g, link, t) in command.delivered.items()
            ],
            lost=[LossRecord(module=addresses[m], gateway=fleet.gateways[g].address, time=from_ms(t)) for m, g, t in command.lost],
            ack_replies=[
                AckReplyRecord(module=addresses[m], uuid=u, time=from_ms(t), payload_hex=p)
                for m, u, t, p in command.ack_replies
            ],
        )

    def commands(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        app_token: str | None = None,
        module: str | None = None,
    ) -> list[CommandRecord]:
        """Every command issued, oldest first, optionally filtered by issuance time and target."""
        with self.locked():
            low = to_ms(since) if since else None
            high = to_ms(until) if until else None
            result = []
            for command in self.downlinks.commands:
                if (low is not None and command.issued_ms < low) or (high is not None and command.issued_ms > high):
                    continue
                record = self.command_record(command)
                if app_token is not None and record.app_token != canonical(app_token):
                    continue
                if module is not None and canonical(module) not in {canonical(t) for t in record.targets}:
                    continue
                result.append(record)
            return result

    def command(self, issuance_id: str) -> CommandRecord:
        with self.locked():
            return self.command_record(self.downlinks.get(issuance_id))

    def issue_command(self, body: dict[str, Any]) -> CommandRecord:
        """Issue a command in process, with exactly the validation of ``POST issueCommand``."""
        with self.locked() as now:
            command = self.downlinks.issue(body, now)
            self._catch_up()
            return self.command_record(command)

    def routes(self, module: str) -> list[str]:
        """Link addresses of the gateways that carried an uplink of ``module`` recently."""
        with self.locked():
            m = self.fleet.module(module)
            if m is None:
                raise not_found(f"unknown module {module}")
            address = self.fleet.module_addresses[m]
            return [f"{address}!101!{self.fleet.gateways[g].address}" for g in self._recent_gateways(m)]
