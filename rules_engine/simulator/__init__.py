"""A Conductor simulator: ``/clientEdge``, ``/networkAsset`` and ``/access`` plus a simulated fleet.

Faithful enough that Link Labs' own ``linklabs-conductor`` 1.6.4 client cannot tell it from the
service (see docs/simulator.md). Typical test use::

    clock = ManualClock()
    sim = Simulator(FleetConfig.generate(devices=20, seed=1), clock=clock)
    clock.advance(600)                      # uplinks generated lazily, deterministically
    with SimulatorServer(sim) as server:    # real HTTP on 127.0.0.1:<free port>
        ...  # server.base_url, server.auth
    sim.uplinks(app_token=sim.app_tokens[0])  # ground truth
"""

from __future__ import annotations

from rules_engine.simulator._invented import ACK_PORT, DEFAULT_PASSWORD, DEFAULT_USERNAME
from rules_engine.simulator.api_error import ApiError
from rules_engine.simulator.app import create_app
from rules_engine.simulator.codec import Telemetry, ack_payload, decode_env_v1
from rules_engine.simulator.config import (
    AccountConfig,
    AckReplyConfig,
    AppTokenConfig,
    CodecConfig,
    DownlinkConfig,
    DownlinkMode,
    FleetConfig,
    GatewayConfig,
    ModuleConfig,
    NetworkTokenConfig,
    ServiceConfig,
)
from rules_engine.simulator.faults import Faults
from rules_engine.simulator.records import (
    AckReplyRecord,
    CommandKind,
    CommandRecord,
    DeliveryRecord,
    LossRecord,
    UplinkRecord,
)
from rules_engine.simulator.server import SimulatorServer
from rules_engine.simulator.simulator import Simulator

__all__ = [
    "Simulator",
    "SimulatorServer",
    "create_app",
    "FleetConfig",
    "AccountConfig",
    "AppTokenConfig",
    "NetworkTokenConfig",
    "GatewayConfig",
    "ModuleConfig",
    "CodecConfig",
    "AckReplyConfig",
    "DownlinkConfig",
    "ServiceConfig",
    "DownlinkMode",
    "Faults",
    "UplinkRecord",
    "CommandRecord",
    "CommandKind",
    "DeliveryRecord",
    "LossRecord",
    "AckReplyRecord",
    "Telemetry",
    "decode_env_v1",
    "ack_payload",
    "ApiError",
    "DEFAULT_USERNAME",
    "DEFAULT_PASSWORD",
    "ACK_PORT",
]
