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


def test_trusted_sets_the_slots_every_model_resolves_to() -> None:
    """``trusted`` calls BaseModel's slot descriptors directly: no model may shadow them."""
    import rules_engine.conductor.models as conductor_models
    import rules_engine.models as engine_models
    from pydantic import BaseModel

    models = [value for module in (engine_models, conductor_models) for value in vars(module).values()
              if isinstance(value, type) and issubclass(value, BaseModel)]
    assert Uplink in models and DecodedUplink in models
    for model in models:
        for slot in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"):
            owner = next(cls for cls in model.__mro__ if slot in vars(cls))
            assert owner is BaseModel, (model, slot)


def test_instances_that_share_a_fields_set_never_change_it() -> None:
    from rules_engine.conductor._wire import _UPLINK_FIELDS, parse_uplink

    raw = {"uuid": "u1", "time": "2026-01-01T00:00:01.250", "type": "uplinkPayload",
           "metadata": {"props": {"app_tok": "t", "net_tok": "n", "acctId": "1", "t_ingest": "1767225601300", "t_write": "1767225601310"}},
           "value": {"module": "m", "gateway": "g", "linkAddress": "l", "portNumber": "1", "pld": "0102",
                     "avgSignalMetadata": {"@type": "SymphonyAvgSignalMetadata", "sf": 9, "snr": 1, "rssi": -90, "frequency": 1, "channelNumber": 2}}}
    first, second = parse_uplink(raw, "http://x"), parse_uplink({**raw, "uuid": "u2"}, "http://x")
    assert first.model_fields_set is second.model_fields_set is _UPLINK_FIELDS
    before = set(_UPLINK_FIELDS)
    copied = first.model_copy(update={"app_token": "other"})
    with pytest.raises(Exception):
        first.app_token = "x"  # type: ignore[misc]  # frozen
    assert copied.app_token == "other" and copied.model_fields_set is not _UPLINK_FIELDS
    assert _UPLINK_FIELDS == before and second.model_fields_set == before
    assert first == parse_uplink(raw, "http://x") and first.model_dump() == parse_uplink(raw, "http://x").model_dump()
