from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from rules_engine.clock import ManualClock
from rules_engine.conductor import ConductorClient, ConductorURLs, RetryPolicy
from rules_engine.config import EngineConfig
from rules_engine.engine import Engine
from rules_engine.ledger.store import Ledger
from rules_engine.pipeline.dispatch import DispatchPolicy
from rules_engine.rules.loader import load_rules
from rules_engine.simulator import FleetConfig, Simulator, SimulatorServer
from rules_engine.toolkit import Toolkit

TOKEN = "9a3e51c07b22d4f68e15"

DECODER = {
    "type": "struct",
    "fields": [
        {"name": "message_type", "type": "u8"},
        {"name": "temperature", "type": "i16_be", "scale": 0.01},
        {"name": "humidity", "type": "u8"},
        {"name": "battery_mv", "type": "u16_be"},
        {"name": "button", "type": "u8", "offset": 6, "bits": 0},
        {"name": "counter", "type": "u8", "offset": 7},
    ],
}


#: One rule that never fires: the engine polls, decodes and stores, and nothing else.
QUIET_RULES = """
rules:
  - id: quiet
    trigger: {uplink: {app_token: plant, port: 1}}
    condition: false
    actions: [{log: {message: never}}]
"""


@dataclass
class Rig:
    clock: ManualClock
    simulator: Simulator
    server: SimulatorServer
    tmp: Path

    def config(self, **token: object) -> EngineConfig:
        return EngineConfig.model_validate({
            "app_tokens": {"plant": {"token": TOKEN, "decoder": "env", "poll_interval": "10s", "overlap": "1m", **token}},
            "decoders": {"env": DECODER},
        })

    def engine(self, rules: str, ledger: Ledger | None = None, config: EngineConfig | None = None) -> Engine:
        config = config or self.config()
        toolkit = Toolkit.create(config, entry_points=False)
        (self.tmp / "rules.yaml").write_text(textwrap.dedent(rules))
        ruleset = load_rules([self.tmp / "rules.yaml"], toolkit)
        assert not ruleset.errors, ruleset.errors
        client = ConductorClient(*self.server.auth, urls=ConductorURLs.single_origin(self.server.base_url), clock=self.clock,
                                 rng=random.Random(1), retry=RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05))
        return Engine(config, toolkit, ruleset, ledger or Ledger.open_writer(self.tmp / "ledger.db"), client, clock=self.clock,
                      dispatch_policy=DispatchPolicy(base_delay=1, max_delay=5, reconcile_after=5))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    clock = ManualClock()
    simulator = Simulator(FleetConfig.generate(devices=20, gateways=2, seed=11, app_token_hashes=[TOKEN],
                                               uplink_interval_s=60, downlink_modes={1: 1.0}), clock=clock)
    simulator.advance(600)
    with SimulatorServer(simulator) as server:
        yield Rig(clock, simulator, server, tmp_path)
