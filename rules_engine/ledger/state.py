"""The ledger as the matcher's :class:`StateStore`: read through, write back at the cycle's commit.

Device records, modifier state and global state are cached in memory (this process is the only
writer) and the changes of a cycle are flushed inside that cycle's transaction. After a
rollback, :meth:`LedgerState.discard` drops the cache so nothing uncommitted survives.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Collection

from ..jsonfast import dumps
from ..state import DeviceRecord, HeldIndex
from ._batches import row_chunks

__all__ = ["LedgerState"]

_ABSENT = object()


#: Rows per devices upsert.
_ROWS_PER_UPSERT = 64


@lru_cache(maxsize=None)  # 2 x 2 x 7 statements (see row_chunks)
def _upsert_devices_sql(rows: int, set_token: bool, with_state: bool) -> str:
    """An upsert of ``rows`` devices of one AppToken (?1), each binding its module, last_seen,
    last_gateway, uplinks and, ``with_state``, its state; without, the state is empty (most
    devices have none: a text not bound is ~1,100 instructions a row not spent). An existing row
    keeps its AppToken unless ``set_token``."""
    columns = ["module", "app_token", "last_seen", "last_gateway", "uplinks"] + (["state"] if with_state else [])
    width = len(columns) - 1
    values = ", ".join("(" + ", ".join(["?1" if column == "app_token" else f"?{2 + row * width + offset - (offset > 1)}"
                                        for offset, column in enumerate(columns)]) + ")" for row in range(rows))
    return (f"INSERT INTO devices ({', '.join(columns)}) VALUES {values} "
            "ON CONFLICT (module) DO UPDATE SET last_seen = excluded.last_seen, last_gateway = excluded.last_gateway, "
            "uplinks = excluded.uplinks, state = " + ("excluded.state" if with_state else "'{}'")
            + (", app_token = excluded.app_token" if set_token else ""))


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=timezone.utc) if value is not None else None


class LedgerState:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._devices: dict[str, DeviceRecord | None] = {}
        self._rules: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._held = HeldIndex()
        self._rules_loaded = False
        self._globals: dict[str, Any] | None = None
        self._dirty_devices: set[str] = set()
        self._retokened_devices: set[str] = set()  # dirty devices whose AppToken changed
        self._last_seen_ts: dict[str, float | None] = {}  # the epoch seconds of a new last_seen, when given
        self._dirty_rules: set[tuple[str, str, str]] = set()
        self._dirty_globals: set[str] = set()

    # -- devices ------------------------------------------------------------------------------

    def device(self, module: str) -> DeviceRecord | None:
        found = self._devices.get(module, _ABSENT)
        if found is _ABSENT:
            row = self.conn.execute(
                "SELECT app_token, last_seen, last_gateway, uplinks, state FROM devices WHERE module = ?", (module,)
            ).fetchone()
            found = None if row is None else DeviceRecord(
                module=module, app_token=row[0], last_seen=_ts(row[1]), last_gateway=row[2], uplinks=row[3],
                state=json.loads(row[4]),
            )
            self._devices[module] = found
        return found  # type: ignore[return-value]

    def _device_for_write(self, module: str) -> DeviceRecord:
        record = self.device(module)
        if record is None:
            record = DeviceRecord(module=module)
            self._devices[module] = record
        self._dirty_devices.add(module)
        return record

    def record_uplink(self, module: str, app_token: str | None, gateway: str | None, time: datetime,
                      ts: float | None = None) -> DeviceRecord:
        record = self._devices.get(module)
        if record is None:  # not cached, or cached as absent
            record = self._device_for_write(module)
        else:
            self._dirty_devices.add(module)
        record.uplinks += 1
        if app_token and app_token != record.app_token:
            record.app_token = app_token
            self._retokened_devices.add(module)
        if record.last_seen is None or time >= record.last_seen:
            record.last_seen = time
            record.last_gateway = gateway or record.last_gateway
            self._last_seen_ts[module] = ts
        return record

    def set_device_state(self, module: str, key: str, value: Any) -> None:
        record = self._device_for_write(module)
        if value is None:
            record.state.pop(key, None)
        else:
            record.state[key] = value

    # -- modifier state -------------------------------------------------------------------------

    def _load_rules(self) -> None:
        """Every stored modifier state, read from the ledger on first use (this process is the only
        writer): a partition or key missing afterwards has no state, so first sight of a device
        costs no query."""
        if self._rules_loaded:
            return
        for rule_id, kind, key, value in self.conn.execute("SELECT rule_id, kind, key, value FROM rule_state"):
            self._rules.setdefault((rule_id, kind), {})[key] = json.loads(value)
            self._held.add(key, rule_id, kind)
        self._rules_loaded = True

    def _partition(self, rule_id: str, kind: str) -> dict[str, dict[str, Any]]:
        part = self._rules.get((rule_id, kind))
        if part is None:
            self._load_rules()
            part = self._rules.setdefault((rule_id, kind), {})
        return part

    def rule_state(self, rule_id: str, kind: str, key: str) -> dict[str, Any] | None:
        found = self._partition(rule_id, kind).get(key)
        return dict(found) if found is not None else None

    def peek_rule_state(self, rule_id: str, kind: str, key: str) -> dict[str, Any] | None:
        part = self._rules.get((rule_id, kind))
        return (part if part is not None else self._partition(rule_id, kind)).get(key)

    def set_rule_state(self, rule_id: str, kind: str, key: str, value: dict[str, Any] | None) -> None:
        part = self._partition(rule_id, kind)
        if value is None:
            part.pop(key, None)
            self._held.remove(key, rule_id, kind)
        else:
            part[key] = dict(value)
            self._held.add(key, rule_id, kind)
        self._dirty_rules.add((rule_id, kind, key))

    def held(self, key: str) -> Collection[tuple[str, str]]:
        if not self._rules_loaded:
            self._load_rules()
        return self._held.get(key)

    # -- global state ---------------------------------------------------------------------------

    def global_state(self) -> dict[str, Any]:
        if self._globals is None:
            self._globals = {key: json.loads(value) for key, value in self.conn.execute("SELECT key, value FROM global_state")}
        return dict(self._globals)

    def set_global_state(self, key: str, value: Any) -> None:
        self.global_state()
        assert self._globals is not None
        if value is None:
            self._globals.pop(key, None)
        else:
            self._globals[key] = value
        self._dirty_globals.add(key)

    # -- tracked sends --------------------------------------------------------------------------

    def allocate_seq(self, app_token: str) -> int:
        from ..acks.store import allocate_seq

        return allocate_seq(self.conn, app_token)

    def devices_seen(self, app_token: str, since: float, gateways: list[str] | None) -> list[tuple[str, str | None]]:
        found = {
            module: gateway for module, gateway in self.conn.execute(
                "SELECT module, last_gateway FROM devices WHERE app_token = ? AND last_seen >= ?", (app_token, since))
        }
        for module in self._dirty_devices:  # devices heard in this cycle, not yet written
            record = self._devices.get(module)
            if record is not None and record.app_token == app_token and record.last_seen and record.last_seen.timestamp() >= since:
                found[module] = record.last_gateway
        return sorted((m, g) for m, g in found.items() if not gateways or g in gateways)

    # -- persistence ----------------------------------------------------------------------------

    def flush(self) -> None:
        """Write the changes of this cycle; call inside the cycle's transaction."""
        if self._dirty_devices:
            # Many rows per statement: a statement step costs more than the row it writes. Rows are
            # grouped by AppToken, bound once per statement (?1). The AppToken is only set when it
            # changed: setting an indexed column rewrites its index entry, even to the same value.
            groups: dict[tuple[str | None, bool, bool], list[Any]] = {}
            seen, retokened = self._last_seen_ts, self._retokened_devices
            for module in self._dirty_devices:
                record = self._devices[module]
                assert record is not None
                last_seen = seen.get(module)
                if last_seen is None and record.last_seen is not None:
                    last_seen = record.last_seen.timestamp()
                state = record.state
                key = (record.app_token, module in retokened, bool(state))
                values = groups.get(key)
                if values is None:
                    values = groups[key] = []
                values += (module, last_seen, record.last_gateway, record.uplinks)
                if state:
                    values.append(dumps(state, sort_keys=True))
            for (app_token, set_token, with_state), values in groups.items():
                for rows, chunk in row_chunks(values, 5 if with_state else 4, _ROWS_PER_UPSERT):
                    self.conn.execute(_upsert_devices_sql(rows, set_token, with_state), [app_token, *chunk])
        if self._dirty_rules:
            upserts, deletes = [], []
            for slot in self._dirty_rules:
                value = self._rules[slot[:2]].get(slot[2])
                if value is None:
                    deletes.append(slot)
                else:
                    upserts.append((*slot, dumps(value)))
            if upserts:
                self.conn.executemany(
                    "INSERT INTO rule_state (rule_id, kind, key, value) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (rule_id, kind, key) DO UPDATE SET value = excluded.value", upserts)
            if deletes:
                self.conn.executemany("DELETE FROM rule_state WHERE rule_id = ? AND kind = ? AND key = ?", deletes)
        if self._dirty_globals:
            assert self._globals is not None
            for key in self._dirty_globals:
                if key in self._globals:
                    self.conn.execute("INSERT INTO global_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                      (key, dumps(self._globals[key])))
                else:
                    self.conn.execute("DELETE FROM global_state WHERE key = ?", (key,))
        self._dirty_devices.clear()
        self._retokened_devices.clear()
        self._last_seen_ts.clear()
        self._dirty_rules.clear()
        self._dirty_globals.clear()

    def discard(self) -> None:
        """Forget everything cached (after a rollback)."""
        self._devices.clear()
        self._rules.clear()
        self._held.clear()
        self._rules_loaded = False
        self._globals = None
        self._dirty_devices.clear()
        self._retokened_devices.clear()
        self._last_seen_ts.clear()
        self._dirty_rules.clear()
        self._dirty_globals.clear()
