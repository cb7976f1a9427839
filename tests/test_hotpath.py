"""The hot path's helpers: models built without validation, the collector held for a batch."""

from __future__ import annotations

import gc
from datetime import datetime, timezone

import pytest

from rules_engine.hotpath import gc_paused, trusted
from rules_engine.models import DecodedUplink, Uplink, UplinkEvent


def test_trusted_models_equal_validated_ones() -> None:
    uplink = Uplink(uuid="u", time=datetime(2026, 1, 1, tzinfo=timezone.utc), module="m")
    item = trusted(DecodedUplink, {"uplink": uplink, "app_token_alias": "a", "decoder": "env", "decoded": {"t": 1},
                                   "decode_error": None})
    assert item == DecodedUplink(uplink=uplink, app_token_alias="a", decoder="env", decoded={"t": 1})
    event = trusted(UplinkEvent, {"kind": "uplink", "item": item})
    assert event == UplinkEvent(item=item) and event.id == "u" and event.time == uplink.time
    assert event.model_dump() == UplinkEvent(item=item).model_dump()
    with pytest.raises(Exception):
        event.kind = "schedule"  # type: ignore[misc]  # frozen


def test_gc_paused_holds_the_collector_and_gives_it_back() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("a failing batch")
    assert gc.isenabled()


def test_gc_paused_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
