"""Where rule modifiers and devices keep their state between events.

The matcher only talks to :class:`StateStore`. :class:`MemoryStateStore` backs the offline
tester and replay; the SQLite ledger implements the same protocol inside its poll transaction,
so a restart resumes every timer exactly where it stood.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Collection, Protocol

__all__ = ["DeviceRecord", "StateStore", "MemoryStateStore", "HeldIndex"]


@dataclass
class DeviceRecord:
    module: str
    app_token: str | None = None
    last_seen: datetime | None = None
    last_gateway: str | None = None
    uplinks: int = 0
    state: dict[str, Any] = field(default_factory=dict)


class HeldIndex:
    """Which modifier states are kept under each key: ``key -> {(rule id, modifier)}``, what
    :meth:`StateStore.held` answers. Both stores keep one beside their state."""

    __slots__ = ("_by_key",)

    def __init__(self) -> None:
        self._by_key: dict[str, set[tuple[str, str]]] = {}

    def add(self, key: str, rule_id: str, kind: str) -> None:
        self._by_key.setdefault(key, set()).add((rule_id, kind))

    def remove(self, key: str, rule_id: str, kind: str) -> None:
        slots = self._by_key.get(key)
        if slots is not None:
            slots.discard((rule_id, kind))
            if not slots:
                del self._by_key[key]

    def get(self, key: str) -> Collection[tuple[str, str]]:
        return self._by_key.get(key, ())

    def clear(self) -> None:
        self._by_key.clear()


class StateStore(Protocol):
    def rule_state(self, rule_id: str, kind: str, key: str) -> dict[str, Any] | None:
        """The state a modifier (``kind``: cooldown, edge, hold, throttle) keeps for ``key``."""

    def peek_rule_state(self, rule_id: str, kind: str, key: str) -> dict[str, Any] | None:
        """Like :meth:`rule_state`, without a copy: read it, never change it."""

    def set_rule_state(self, rule_id: str, kind: str, key: str, value: dict[str, Any] | None) -> None:
        """Replace (or with ``None`` delete) a modifier's state."""

    def held(self, key: str) -> Collection[tuple[str, str]]:
        """``(rule id, modifier)`` of every modifier state kept under ``key`` (any rule): the
        matcher asks once per event instead of once per rule."""

    def device(self, module: str) -> DeviceRecord | None: ...

    def record_uplink(self, module: str, app_token: str | None, gateway: str | None, time: datetime,
                      ts: float | None = None) -> DeviceRecord:
        """Note that ``module`` was heard (last seen never moves backwards). ``ts``: ``time`` in
        epoch seconds, when the caller has it."""

    def set_device_state(self, module: str, key: str, value: Any) -> None: ...

    def global_state(self) -> dict[str, Any]: ...

    def set_global_state(self, key: str, value: Any) -> None: ...

    def allocate_seq(self, app_token: str) -> int:
        """The next sequence number of a tracked send on this AppToken."""

    def devices_seen(self, app_token: str, since: float, gateways: list[str] | None) -> list[tuple[str, str | None]]:
        """``(module, last gateway)`` of the devices of an AppToken heard since ``since`` (epoch s),
        only those last heard through one of ``gateways`` when given."""


class MemoryStateStore:
    """An in-memory :class:`StateStore` (tests, ``rules-engine test`` and ``replay``)."""

    def __init__(self) -> None:
        self.rules: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._held = HeldIndex()
        self.devices: dict[str, DeviceRecord] = {}
        self.globals: dict[str, Any] = {}
        self.seqs: dict[str, int] = {}

    def rule_state(self, rule_id: str, kind: str, key: str) -> dict[str, Any] | None:
        found = self.rules.get((rule_id, kind, key))
        return copy.deepcopy(found) if found is not None else None

    def peek_rule_state(self, rule_id: str, kind: str, key: str) -> dict[str, Any] | None:
        return self.rules.get((rule_id, kind, key))

    def set_rule_state(self, rule_id: str, kind: str, key: str, value: dict[str, Any] | None) -> None:
        if value is None:
            self.rules.pop((rule_id, kind, key), None)
            self._held.remove(key, rule_id, kind)
        else:
            self.rules[(rule_id, kind, key)] = copy.deepcopy(value)
            self._held.add(key, rule_id, kind)

    def held(self, key: str) -> Collection[tuple[str, str]]:
        return self._held.get(key)

    def device(self, module: str) -> DeviceRecord | None:
        return self.devices.get(module)

    def record_uplink(self, module: str, app_token: str | None, gateway: str | None, time: datetime,
                      ts: float | None = None) -> DeviceRecord:
        record = self.devices.setdefault(module, DeviceRecord(module=module))
        record.uplinks += 1
        record.app_token = app_token or record.app_token
        if record.last_seen is None or time >= record.last_seen:
            record.last_seen = time
            record.last_gateway = gateway or record.last_gateway
        return record

    def set_device_state(self, module: str, key: str, value: Any) -> None:
        record = self.devices.setdefault(module, DeviceRecord(module=module))
        if value is None:
            record.state.pop(key, None)
        else:
            record.state[key] = value

    def global_state(self) -> dict[str, Any]:
        return dict(self.globals)

    def set_global_state(self, key: str, value: Any) -> None:
        if value is None:
            self.globals.pop(key, None)
        else:
            self.globals[key] = value

    def allocate_seq(self, app_token: str) -> int:
        self.seqs[app_token] = self.seqs.get(app_token, 0) + 1
        return self.seqs[app_token]

    def devices_seen(self, app_token: str, since: float, gateways: list[str] | None) -> list[tuple[str, str | None]]:
        return sorted(
            (record.module, record.last_gateway) for record in self.devices.values()
            if record.app_token == app_token and record.last_seen is not None and record.last_seen.timestamp() >= since
            and (not gateways or record.last_gateway in gateways)
        )
