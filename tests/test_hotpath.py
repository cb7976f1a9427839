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


def test_trusted_with_fields_gives_each_instance_its_own_set() -> None:
    uplink = Uplink(uuid="u", time=datetime(2026, 1, 1, tzinfo=timezone.utc), module="m")
    fields = frozenset(DecodedUplink.model_fields)
    values = {"uplink": uplink, "app_token_alias": None, "decoder": None, "decoded": {}, "decode_error": None}
    one, two = trusted(DecodedUplink, dict(values), fields), trusted(DecodedUplink, dict(values), fields)
    assert one == two == trusted(DecodedUplink, dict(values))
    assert one.model_fields_set == set(values) and type(one.model_fields_set) is set
    assert one.model_fields_set is not two.model_fields_set
    assert one.model_copy(update={"decoder": "env"}).decoder == "env" and one.decoder is None
