"""Build rules from YAML text and feed events through the matcher, in memory."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from rules_engine.config import EngineConfig
from rules_engine.models import Uplink, UplinkEvent
from rules_engine.pipeline.match import Matcher
from rules_engine.rules.index import RuleIndex
from rules_engine.rules.loader import RuleSet, load_rules
from rules_engine.state import MemoryStateStore
from rules_engine.toolkit import Toolkit

TOKEN = "9a3e51c07b22d4f68e15"
OTHER = "1bcda4a2e8c1af83d330"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
CONFIG = EngineConfig.model_validate({
    "app_tokens": {"plant": {"token": TOKEN, "decoder": "json"}, "other": {"token": OTHER, "decoder": "json"}},
})


def load(tmp_path: Path, text: str, config: EngineConfig = CONFIG) -> tuple[RuleSet, Toolkit]:
    toolkit = Toolkit.create(config, entry_points=False)
    (tmp_path / "rules.yaml").write_text(textwrap.dedent(text))
    ruleset = load_rules([tmp_path / "rules.yaml"], toolkit)
    assert not ruleset.errors, "\n".join(map(str, ruleset.errors))
    return ruleset, toolkit


class Feed:
    """Feeds uplinks with JSON payloads through one matcher and one state store."""

    def __init__(self, ruleset: RuleSet, toolkit: Toolkit) -> None:
        self.toolkit = toolkit
        self.store = MemoryStateStore()
        self.matcher = Matcher(RuleIndex(ruleset.rules), toolkit.redecode)
        self.count = 0

    def uplink(self, at_s: float, module: str = "$301$0-0-0-000000001", token: str = TOKEN, port: int = 1,
               gateway: str = "$101$0-0-0-000000001", trace: bool = False, **decoded: Any):
        import json

        self.count += 1
        uplink = Uplink(uuid=f"u{self.count}", time=START + timedelta(seconds=at_s), module=module, gateway=gateway,
                        port=port, payload=json.dumps(decoded).encode(), app_token=token)
        event = UplinkEvent(item=self.toolkit.decode(uplink))
        result = self.matcher.match(event, self.store, trace_all=trace)
        self.store.record_uplink(module, token, gateway, uplink.time)
        return result

    def fired(self, *args: Any, **kwargs: Any) -> list[str]:
        return [firing.rule_id for firing in self.uplink(*args, **kwargs).firings]


