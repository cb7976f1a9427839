"""The example plugins in plugins/ work as documented (docs/plugins.md)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rules_engine.config import EngineConfig
from rules_engine.errors import ConditionError, ConfigError, DecodeError
from rules_engine.toolkit import Toolkit

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    config = EngineConfig.model_validate({"decoders": {"tracker": {"type": "acme-tracker"}}})
    return Toolkit.create(config, plugins_dir=PLUGINS, entry_points=False)


def test_acme_tracker_decodes_a_payload(toolkit: Toolkit) -> None:
    decoded = toolkit.decoders["tracker"].decode(bytes.fromhex("1F5BA62007FD70D0500309"))
    assert decoded == {"latitude": 52.61, "longitude": 13.405, "battery_pct": 80, "moving": True, "sos": True, "satellites": 9}


def test_acme_tracker_rejects_a_short_payload(toolkit: Toolkit) -> None:
    with pytest.raises(DecodeError, match="needs 11 bytes, got 3"):
        toolkit.decoders["tracker"].decode(b"\x01\x02\x03")


def test_acme_tracker_options_are_validated() -> None:
    config = EngineConfig.model_validate({"decoders": {"tracker": {"type": "acme-tracker", "coordinates_scale": -1}}})
    with pytest.raises(ConfigError, match="decoders.tracker"):
        Toolkit.create(config, plugins_dir=PLUGINS, entry_points=False)


def test_distance_km(toolkit: Toolkit) -> None:
    berlin_paris = toolkit.compile_expr({"distance_km": [52.52, 13.405, 48.8566, 2.3522]})({})
    assert math.isclose(berlin_paris, 877.46, abs_tol=0.1)
    missing = toolkit.compile_expr({"distance_km": [{"var": "lat"}, 13.4, 48.8, 2.3]})({})
    assert missing is None


def test_inside_box_short_circuits_and_checks_its_corners(toolkit: Toolkit) -> None:
    inside = toolkit.compile_expr({"inside_box": [{"var": "lat"}, {"var": "lon"}, 52.45, 13.30, 52.60, 13.50]})
    assert inside({"lat": 52.5, "lon": 13.4}) is True
    assert inside({"lat": 48.8, "lon": 13.4}) is False
    assert inside({"lat": 52.5}) is False
    with pytest.raises(ConditionError, match="constant numbers"):
        toolkit.compile_expr({"inside_box": [1, 2, "south", 4, 5, 6]})
    with pytest.raises(ConditionError, match="expected exactly 6 arguments, got 2"):
        toolkit.compile_expr({"inside_box": [1, 2]})
