"""Every plugin in docs/plugins.md, loaded from a plugins directory, does what the page says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rules_engine.config import EngineConfig
from rules_engine.toolkit import Toolkit

DOC = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text()
PLUGINS = dict(re.findall(r"```python\n# plugin: (\S+)\n(.*?)```", DOC, re.S))


@pytest.fixture(scope="module")
def toolkit(tmp_path_factory: pytest.TempPathFactory) -> Toolkit:
    directory = tmp_path_factory.mktemp("plugins")
    for name, source in PLUGINS.items():
        (directory / name).write_text(source)
    config = EngineConfig.model_validate({
        "decoders": {
            "vendor": {"type": "tlv"},
            "bcd": {"type": "struct", "fields": [{"name": "minutes", "type": "bcd8"}]},
        }
    })
    return Toolkit.create(config, plugins_dir=directory, entry_points=False)


def test_every_hook_has_an_example() -> None:
    assert set(PLUGINS) == {"ntfy_action.py", "tlv_decoder.py", "bcd_field.py", "clamp_operator.py"}


def test_action_example(toolkit: Toolkit) -> None:
    action = toolkit.registries.actions["ntfy"]
    planned = action.build(action.options(topic="ops", message="{uplink.module} is hot"), None)
    plan = planned.plan({"uplink": {"module": "$301$0-0-0-1"}})
    assert plan.params == {"topic": "ops", "message": "$301$0-0-0-1 is hot"}


def test_decoder_example(toolkit: Toolkit) -> None:
    assert toolkit.decoders["vendor"].decode(bytes.fromhex("0101FF0202012C")) == {"t1": 255, "t2": 300}
    with pytest.raises(Exception, match="truncated record at byte 3"):
        toolkit.decoders["vendor"].decode(bytes.fromhex("0101FF0205"))


def test_field_type_example(toolkit: Toolkit) -> None:
    assert toolkit.decoders["bcd"].decode(bytes([0x42])) == {"minutes": 42}
    builder = toolkit.compile_payload([{"type": "bcd8", "value": 59}])
    assert builder.build({}) == bytes([0x59])


def test_operator_example(toolkit: Toolkit) -> None:
    clamp = toolkit.compile_expr({"clamp": [{"var": "v"}, 0, 100]})
    assert [clamp({"v": -5}), clamp({"v": 50}), clamp({"v": 500}), clamp({})] == [0, 50, 100, None]
