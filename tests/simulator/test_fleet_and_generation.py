"""Fleet configuration, deterministic lazy uplink generation, the payload codec."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from pydantic import ValidationError

from rules_engine.clock import ManualClock
from rules_engine.simulator import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    DownlinkMode,
    FleetConfig,
    ModuleConfig,
    Simulator,
    ack_payload,
    decode_env_v1,
)

from .conftest import T0


def _sim(seed: int = 5, **kwargs: object) -> tuple[Simulator, ManualClock]:
    clock = ManualClock(T0)
    return Simulator(FleetConfig.generate(devices=25, gateways=3, seed=seed, **kwargs), clock=clock), clock


def test_generate_defaults_and_determinism() -> None:
    a = FleetConfig.generate(devices=200, gateways=4, app_tokens=1, seed=9)
    b = FleetConfig.generate(devices=200, gateways=4, app_tokens=1, seed=9)
    assert a.model_dump() == b.model_dump()
    assert a.account.username == DEFAULT_USERNAME and a.account.password == DEFAULT_PASSWORD
    assert len(a.modules) == 200 and len(a.gateways) == 4 and len(a.app_tokens) == 1
    assert all(len(t.hash) == 20 and t.hash == t.hash.lower() for t in a.app_tokens)
    assert a.network_tokens[0].hash == "4f50454e"
    assert len({m.address for m in a.modules}) == 200
    assert all(m.address.startswith("$301$") for m in a.modules)
    modes = Counter(m.downlink_mode for m in a.modules)
    assert set(modes) == {DownlinkMode.ALWAYS, DownlinkMode.MAILBOX, DownlinkMode.OFF}
    assert FleetConfig.generate(devices=200, seed=10).model_dump() != a.model_dump()


def test_generate_lte_and_given_app_tokens() -> None:
    config = FleetConfig.generate(devices=10, lte_fraction=0.3, app_token_hashes=["ABCDEF0123456789abcd"], app_tokens=2)
    assert config.app_tokens[0].hash == "abcdef0123456789abcd" and len(config.app_tokens) == 2
    lte = [m for m in config.modules if m.is_lte]
    assert len(lte) == 3
    virtual = [g for g in config.gateways if g.virtual]
    assert len(virtual) == 1 and virtual[0].address.startswith("$101$0-0-0000128-")
    assert all(m.gateways == [virtual[0].address] for m in lte)


def test_config_rejects_bad_references() -> None:
    config = FleetConfig.generate(devices=2, seed=1)
    bad = config.model_dump()
    bad["modules"][0]["gateways"] = ["$101$0-0-0-db9000000"]
    with pytest.raises(ValidationError, match="unknown gateway"):
        FleetConfig.model_validate(bad)
    with pytest.raises(ValidationError):
        ModuleConfig(address="$301$0-0-0-abc", app_token="x", gateways=[])
    round_trip = FleetConfig.model_validate_json(config.model_dump_json())
    assert round_trip == config


def test_nothing_happens_until_the_clock_moves() -> None:
    sim, clock = _sim()
    assert sim.catch_up() == 0 and sim.uplinks() == []
    clock.advance(600)
    records = sim.uplinks()
    # 25 modules every 60 s (+-6 s) for 600 s: about 10 each
    assert 200 <= len(records) <= 275
    assert all(T0 <= r.time <= T0 + timedelta(seconds=600) for r in records)
    assert [r.time for r in records] == sorted(r.time for r in records)
    assert len({r.uuid for r in records}) == len(records)


def test_same_seed_same_uplinks_whatever_the_steps() -> None:
    one, clock_one = _sim(seed=5)
    clock_one.advance(900)
    stepped, clock_stepped = _sim(seed=5)
    for _ in range(90):
        clock_stepped.advance(10)
        stepped.catch_up()
    a = [(r.uuid, r.module, r.gateway, r.payload_hex, r.time, r.visible_from) for r in one.uplinks()]
    b = [(r.uuid, r.module, r.gateway, r.payload_hex, r.time, r.visible_from) for r in stepped.uplinks()]
    assert a == b
    other, clock_other = _sim(seed=6)
    clock_other.advance(900)
    assert {r.uuid for r in other.uplinks()}.isdisjoint({r.uuid for r in one.uplinks()})


def test_history_and_explicit_start() -> None:
    clock = ManualClock(T0)
    sim = Simulator(FleetConfig.generate(devices=5, seed=1, history_s=300), clock=clock)
    records = sim.uplinks()
    assert records and min(r.time for r in records) >= T0 - timedelta(seconds=300)
    assert max(r.time for r in records) <= T0


def test_uplinks_mostly_through_the_primary_gateway() -> None:
    clock = ManualClock(T0)
    config = FleetConfig.generate(devices=40, gateways=3, seed=2, max_gateways_per_module=3)
    sim = Simulator(config, clock=clock)
    clock.advance(3600)
    primary = {m.address: m.gateways[0] for m in config.modules}
    heard = {m.address: set(m.gateways) for m in config.modules}
    records = sim.uplinks()
    assert all(r.gateway in heard[r.module] for r in records)
    share = sum(r.gateway == primary[r.module] for r in records) / len(records)
    assert 0.75 < share < 0.95


def test_payload_codec_env_v1() -> None:
    sim, clock = _sim()
    clock.advance(3600)
    records = sim.uplinks(kind="data")
    assert records and all(r.port == 1 for r in records)
    for record in records:
        telemetry = decode_env_v1(record.payload_hex)
        assert -10 < telemetry.temperature_c < 45
        assert 0 <= telemetry.humidity_pct <= 100
        assert 2800 <= telemetry.battery_mv <= 3600
    per_module = [r for r in records if r.module == records[0].module]
    assert [decode_env_v1(r.payload_hex).counter for r in per_module] == list(range(len(per_module)))
    with pytest.raises(ValueError):
        decode_env_v1("AC0000002A")


def test_raw_codec() -> None:
    clock = ManualClock(T0)
    config = FleetConfig.generate(devices=3, seed=1, codec={"kind": "raw", "raw_length": 70, "port": 9})
    sim = Simulator(config, clock=clock)
    clock.advance(120)
    records = sim.uplinks()
    assert records and all(len(r.payload_hex) == 140 and r.port == 9 for r in records)


def test_ack_payload_convention() -> None:
    assert ack_payload(bytes.fromhex("0000002A99FF")).hex().upper() == "AC0000002A"
    assert ack_payload(bytes.fromhex("2A")).hex().upper() == "AC2A000000"
    assert ack_payload(b"").hex().upper() == "AC00000000"


def test_downlink_mode_can_change_at_runtime(sim: Simulator) -> None:
    module = sim.config.modules[0].address
    sim.set_downlink_mode(module, DownlinkMode.MAILBOX)
    assert sim.fleet.mode(sim.fleet.module(module)) == DownlinkMode.MAILBOX  # type: ignore[arg-type]


def test_generation_scales_linearly_enough() -> None:
    clock = ManualClock(T0)
    sim = Simulator(FleetConfig.generate(devices=2000, gateways=8, app_tokens=100, seed=3), clock=clock)
    clock.advance(300)
    assert 9000 < sim.catch_up() < 11000
