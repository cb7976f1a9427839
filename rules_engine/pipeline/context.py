"""The data a condition sees. Documented in docs/rules.md ("The context"); keep them in step."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..models import DecodedUplink, Event
from ..state import DeviceRecord, StateStore

__all__ = ["build_context", "uplink_fields", "device_fields", "signal_fields", "epoch", "utc_isoformat"]


_SECONDS: dict[int, str] = {}  # whole UTC second -> its ISO text without the fraction


def utc_isoformat(time: datetime, ts: float) -> str:
    """``time.isoformat()`` for ``time`` at epoch seconds ``ts``. ``isoformat`` formats through
    ``PyUnicode_FromFormat``, ~11k instructions; this keeps the text of whole seconds (the
    uplinks of a cycle share theirs) and adds the fraction."""
    if time.tzinfo is not timezone.utc or ts < 0:
        return time.isoformat()
    second = int(ts)
    head = _SECONDS.get(second)
    if head is None:
        if len(_SECONDS) >= 4096:
            _SECONDS.clear()
        head = _SECONDS[second] = time.replace(microsecond=0, tzinfo=None).isoformat()
    micro = time.microsecond
    return f"{head}.{micro:06d}+00:00" if micro else f"{head}+00:00"


def epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def signal_fields(signal: Any) -> dict[str, Any] | None:
    """``signal.model_dump(exclude={"kind"})``: its fields are plain ints and strings."""
    if signal is None:
        return None
    fields = dict(signal.__dict__)
    del fields["kind"]
    return fields


def uplink_fields(item: DecodedUplink) -> dict[str, Any]:
    parts = item.__dict__  # the models' field values: two attribute reads instead of fourteen (see ledger/records.py)
    uplink = parts["uplink"].__dict__
    time, payload = uplink["time"], uplink["payload"]
    timestamp = time.timestamp()
    return {
        "uuid": uplink["uuid"],
        "time": utc_isoformat(time, timestamp),
        "timestamp": timestamp,
        "module": uplink["module"],
        "gateway": uplink["gateway"],
        "port": uplink["port"],
        "payload_hex": payload.hex().upper(),
        "size": len(payload),
        "app_token": uplink["app_token"],
        "app_token_alias": parts["app_token_alias"],
        "network_token": uplink["network_token"],
        "signal": signal_fields(uplink["signal"]),
        "decoder": parts["decoder"],
        "decode_error": parts["decode_error"],
    }


def device_fields(record: DeviceRecord | None, module: str | None) -> dict[str, Any]:
    if record is None:
        return {"module": module, "app_token": None, "last_seen": None, "last_gateway": None, "uplinks": 0, "state": {}}
    return {
        "module": record.module,
        "app_token": record.app_token,
        "last_seen": epoch(record.last_seen),
        "last_gateway": record.last_gateway,
        "uplinks": record.uplinks,
        "state": dict(record.state),
    }


def build_context(event: Event, store: StateStore, decoded: dict[str, Any] | None = None,
                  uplink: dict[str, Any] | None = None) -> dict[str, Any]:
    """The context of one event. For an uplink, ``device`` is the device as it was *before*
    this uplink (so ``now - device.last_seen`` is the gap since the previous one); ``uplink``:
    its :func:`uplink_fields`, when the caller already has them."""
    if event.kind == "uplink":
        item = event.item
        fields = uplink if uplink is not None else uplink_fields(item)
        context: dict[str, Any] = {"now": fields["timestamp"], "state": store.global_state(), "uplink": fields}
        context["decoded"] = item.decoded if decoded is None else decoded
        context["device"] = device_fields(store.device(item.uplink.module), item.uplink.module)
        return context
    context = {"now": event.time.timestamp(), "state": store.global_state()}
    if event.kind == "silence":
        device = device_fields(store.device(event.module), event.module)
        device.update({"app_token": event.app_token or device["app_token"], "gateway": event.gateway or device["last_gateway"]})
        context["device"] = device
        context["silence"] = {"last_seen": epoch(event.last_seen), "for": (event.time - event.last_seen).total_seconds()}
    elif event.kind == "send":
        context["send"] = {"id": event.send_id, "rule": event.rule_id, "outcome": event.outcome, **event.details}
    elif event.kind == "schedule":
        context["schedule"] = {"rule": event.rule_id, "time": event.time.isoformat()}
    return context
