"""The downlink engine: issued commands, per-route state, delivery to modules, status, ack replies.

Semantics (docs/simulator.md): an AppToken multicast reaches the ALWAYS-mode modules of the token;
through gateways, only those heard by one of the gateways; a gateway broadcast reaches every
ALWAYS-mode module the gateway hears; a unicast reaches an ALWAYS module when the gateway
transmits, a MAILBOX module at its next uplink through a routed gateway, an OFF module never.
Each delivery attempt may be lost (``downlinks.loss_probability``, seeded).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rules_engine.simulator import _invented as inv
from rules_engine.simulator._rng import Salt, unit, uuid4_from
from rules_engine.simulator.api_error import ApiError, not_found
from rules_engine.simulator.codec import ack_payload
from rules_engine.simulator.command_parse import CommandPlan, RoutePlan, parse_command
from rules_engine.simulator.config import DownlinkMode
from rules_engine.simulator.fleet import Fleet, canonical
from rules_engine.simulator.store import Uplink

__all__ = ["DownlinkEngine", "Command", "Route"]

Schedule = Callable[[int, str, tuple[Any, ...]], None]
_MULTICAST = {"app_token_multicast", "gateway_multicast", "gateway_broadcast"}
_MAILBOX_MODE = int(DownlinkMode.MAILBOX)


class Route:
    __slots__ = ("link", "key", "gateway", "module", "events", "sent")

    def __init__(self, plan: RoutePlan) -> None:
        self.link = plan.link
        self.key = canonical(plan.link)
        self.gateway = plan.gateway
        self.module = plan.module
        self.events: list[tuple[str, int]] = []
        self.sent = False


class Command:
    def __init__(self, number: int, issuance_id: str, plan: CommandPlan, issued_ms: int) -> None:
        self.number = number
        self.issuance_id = issuance_id
        self.plan = plan
        self.kind = plan.kind
        self.issued_ms = issued_ms
        self.expires_ms = issued_ms + plan.ttl_ms
        self.routes = [Route(r) for r in plan.routes]
        self.final_status: str | None = None
        self.final_ms: int | None = None
        self.cancelled = False
        self.eligible: list[int] = []
        self.delivered: dict[int, tuple[int, str, int]] = {}  # module -> (gateway, link, time)
        self.lost: list[tuple[int, int, int]] = []  # (module, gateway, time)
        self.ack_replies: list[tuple[int, str, int, str]] = []  # (module, uuid, time, payload hex)

    def status(self) -> str:
        return self.final_status or inv.STATUS_PENDING

    def finish(self, status: str, at_ms: int) -> None:
        if self.final_status is None:
            self.final_status, self.final_ms = status, at_ms


class DownlinkEngine:
    def __init__(self, fleet: Fleet, schedule: Schedule, recent_gateways: Callable[[int], list[int]]) -> None:
        self.fleet = fleet
        self.seed = fleet.config.seed
        self.settings = fleet.config.downlinks
        self.replies = fleet.config.ack_replies
        self._schedule = schedule
        self._recent_gateways = recent_gateways
        self.commands: list[Command] = []
        self.by_id: dict[str, Command] = {}
        self.mailbox: dict[int, list[Command]] = {}

    # -- issuing ----------------------------------------------------------------------------
    def issue(self, body: Any, now_ms: int) -> Command:
        plan = parse_command(self.fleet, body, self._recent_gateways)
        number = len(self.commands)
        command = Command(number, uuid4_from(self.seed, number, Salt.CMD), plan, now_ms)
        self.commands.append(command)
        self.by_id[command.issuance_id] = command
        latency_ms = int(self.settings.latency_s * 1000)
        for route in command.routes:
            route.events.append(("Issued", now_ms))
            for state in ("Submitting", "Submitted"):
                route.events.append((state, now_ms + int(latency_ms * inv.ROUTE_STATE_FRACTIONS[state])))
        if not command.routes:
            command.finish(inv.STATUS_FAILED, now_ms)
            return command
        self._schedule(now_ms + latency_ms, "tx", (command,))
        self._schedule(command.expires_ms, "expire", (command,))
        return command

    def get(self, issuance_id: str) -> Command:
        command = self.by_id.get(issuance_id)
        if command is None:
            raise not_found(f"no issued command {issuance_id}")
        return command

    def cancel(self, issuance_id: str, now_ms: int) -> Command:
        command = self.get(issuance_id)
        if command.final_status is not None:
            raise ApiError(inv.CONFLICT_STATUS, "Conflict", f"command {issuance_id} is already {command.final_status}")
        command.cancelled = True
        command.finish(inv.STATUS_CANCELLED, now_ms)
        for route in command.routes:
            route.events = [e for e in route.events if e[1] <= now_ms] + [("Cancelled", now_ms)]
        return command

    # -- events (called by the simulator in time order) ---------------------------------------
    def handle(self, kind: str, args: tuple[Any, ...], t: int) -> None:
        if kind == "tx":
            self._transmit(args[0], t)
        elif kind == "retry":
            self._retry(args[0], args[1], t)
        elif kind == "expire":
            self._expire(args[0], t)

    def _sent(self, command: Command, route: Route, t: int, sending_ms: int | None = None) -> None:
        route.events.append(("Sending", t if sending_ms is None else sending_ms))
        route.events.append(("Sent", t))
        route.sent = True

    def _transmit(self, command: Command, t: int) -> None:
        if command.final_status is not None:
            return
        latency_ms = int(self.settings.latency_s * 1000)
        sending = command.issued_ms + int(latency_ms * inv.ROUTE_STATE_FRACTIONS["Sending"])
        fleet = self.fleet
        if command.kind == "gateway_internal":
            for route in command.routes:
                self._sent(command, route, t, sending)
            command.finish(inv.STATUS_ACKNOWLEDGED if command.plan.acked else inv.STATUS_SUCCESS, t)
            return
        if command.kind in _MULTICAST:
            for route in command.routes:
                self._sent(command, route, t, sending)
            seen: set[int] = set()
            if command.kind == "app_token_multicast":
                token_modules = fleet.token_modules[command.plan.token or 0]
                by_gateway = {r.gateway: r for r in command.routes}
                for m in token_modules:
                    route = by_gateway.get(fleet.module_gateways[m][0])
                    if route is not None and fleet.module_mode[m] == DownlinkMode.ALWAYS:
                        self._eligible(command, m, route, t, seen)
            else:
                token = command.plan.token
                for route in command.routes:
                    for m in fleet.gateway_modules[route.gateway]:
                        if m in seen or fleet.module_mode[m] != DownlinkMode.ALWAYS:
                            continue
                        if token is None or fleet.module_token[m] == token:
                            self._eligible(command, m, route, t, seen)
            command.finish(inv.STATUS_SUCCESS, t)
            return
        # unicast
        for m in command.plan.modules:
            routes = [r for r in command.routes if r.module == m]
            mode = fleet.module_mode[m]
            if mode == DownlinkMode.MAILBOX:
                if any(fleet.hears(r.gateway, m) for r in routes):
                    command.eligible.append(m)
                    self.mailbox.setdefault(m, []).append(command)
                continue
            for route in routes:
                self._sent(command, route, t, sending)
            hearing = [r for r in routes if fleet.hears(r.gateway, m)]
            if mode == DownlinkMode.ALWAYS and hearing:
                command.eligible.append(m)
                self._attempt(command, m, hearing[0], t, 0)
        self._settle_unicast(command, t)

    def _eligible(self, command: Command, m: int, route: Route, t: int, seen: set[int]) -> None:
        seen.add(m)
        command.eligible.append(m)
        self._attempt(command, m, route, t, 0)

    def _attempt(self, command: Command, m: int, route: Route, t: int, attempt: int) -> None:
        if unit(self.seed, command.number, m, attempt, Salt.LOSS) < self.settings.loss_probability:
            command.lost.append((m, route.gateway, t))
            if command.plan.acked and self.fleet.module_mode[m] == DownlinkMode.ALWAYS:
                retry_at = t + int(self.settings.ack_retry_interval_s * 1000)
                if retry_at < command.expires_ms:
                    self._schedule(retry_at, "retry", (command, m))
            return
        command.delivered[m] = (route.gateway, route.link, t)
        counts = self.fleet.multicast_count if command.kind in _MULTICAST else self.fleet.unicast_count
        counts[m] = counts.get(m, 0) + 1
        replies = self.replies
        if replies.enabled and unit(self.seed, command.number, m, Salt.ACK) < replies.probability:
            delay = replies.delay_s + replies.jitter_s * unit(self.seed, command.number, m, Salt.ACK_DELAY)
            self._schedule(t + int(delay * 1000), "ack", (command, m, route.gateway, ack_payload(command.plan.payload)))

    def _settle_unicast(self, command: Command, t: int) -> None:
        if command.final_status is not None:
            return
        if command.plan.acked:
            acked = sum(1 for m in command.plan.modules if m in command.delivered)
            if acked and acked / len(command.plan.modules) >= command.plan.ack_ratio:
                command.finish(inv.STATUS_ACKNOWLEDGED, t)
        elif any(r.sent for r in command.routes) and not any(
            command in self.mailbox.get(m, ()) for m in command.plan.modules
        ):
            command.finish(inv.STATUS_SUCCESS, t)

    def _retry(self, command: Command, m: int, t: int) -> None:
        if command.final_status is not None or m in command.delivered:
            return
        routes = [r for r in command.routes if r.module == m and self.fleet.hears(r.gateway, m)]
        if not routes:
            return
        mode = self.fleet.module_mode[m]
        if mode == DownlinkMode.ALWAYS:
            self._sent(command, routes[0], t)
            self._attempt(command, m, routes[0], t, len([x for x in command.lost if x[0] == m]))
            self._settle_unicast(command, t)
        elif mode == DownlinkMode.MAILBOX:
            self.mailbox.setdefault(m, []).append(command)

    def on_uplink(self, record: Uplink) -> None:
        """A MAILBOX module's uplink is its mailbox request: hand over what is queued for it."""
        m, t = record.module, record.time_ms
        if self.fleet.module_mode[m] != _MAILBOX_MODE:
            return
        self.fleet.mailbox_request_ms[m] = t
        queued = self.mailbox.get(m)
        if not queued:
            return
        keep: list[Command] = []
        for command in queued:
            if command.final_status is not None or m in command.delivered or t >= command.expires_ms:
                continue
            route = next((r for r in command.routes if r.module == m and r.gateway == record.gateway), None)
            if route is None:
                keep.append(command)
                continue
            self._sent(command, route, t)
            attempts = len([x for x in command.lost if x[0] == m])
            self._attempt(command, m, route, t, attempts)
            if command.plan.acked and m not in command.delivered:
                keep.append(command)
            self._settle_mailbox(command, m, t)
        if keep:
            self.mailbox[m] = keep
        else:
            del self.mailbox[m]

    def _settle_mailbox(self, command: Command, m: int, t: int) -> None:
        if command.plan.acked:
            self._settle_unicast(command, t)
            return
        still_queued = [x for x in command.plan.modules if x != m and command in self.mailbox.get(x, ())]
        if not still_queued:
            command.finish(inv.STATUS_SUCCESS, t)

    def _expire(self, command: Command, t: int) -> None:
        if command.final_status is not None:
            return
        command.finish(inv.STATUS_EXPIRED, t)
        for route in command.routes:
            if command.plan.acked or not route.sent:
                route.events.append(("Expired", t))

    def record_ack_reply(self, command: Command, m: int, record: Uplink) -> None:
        command.ack_replies.append((m, record.uuid, record.time_ms, record.pld.hex().upper()))

    # -- listings -----------------------------------------------------------------------------
    def for_subject(self, address: str) -> list[Command]:
        fleet = self.fleet
        token = fleet.token_by_node.get(canonical(address))
        if token is not None:
            return [c for c in self.commands if c.kind in _MULTICAST and c.plan.token == token]
        m = fleet.module(address)
        if m is not None:
            return [c for c in self.commands if m in c.plan.modules]
        g = fleet.gateway(address)
        if g is not None:
            return [c for c in self.commands if any(r.gateway == g for r in c.routes)]
        raise not_found(f"unknown node {address}")
