"""Modifiers and matching semantics, from timestamps in the state store (never the wall clock)."""

from __future__ import annotations

from pathlib import Path

from .helpers import OTHER, Feed, load


def test_cooldown_per_module(tmp_path: Path) -> None:
    feed = Feed(*load(tmp_path, """
        rules:
          - id: hot
            trigger: {uplink: {app_token: plant}}
            condition: {">": [{var: decoded.t}, 30]}
            cooldown: {duration: 10m, key: module}
            actions: [log: {message: hot}]
    """))
    assert feed.fired(0, t=31) == ["hot"]
    assert feed.fired(60, t=35) == []                                  # same module, cooling down
    assert feed.fired(61, module="$301$0-0-0-000000002", t=35) == ["hot"]  # another module has its own
    assert feed.fired(601, t=35) == ["hot"]                            # 10 minutes later


def test_rule_wide_cooldown_reports_why(tmp_path: Path) -> None:
    feed = Feed(*load(tmp_path, """
        rules:
          - id: any
            trigger: {uplink: {}}
            cooldown: 1m
            actions: [log: {message: x}]
    """))
    assert feed.fired(0) == ["any"]
    result = feed.uplink(30, module="$301$0-0-0-000000009", trace=True)
    assert result.firings == []
    assert result.evaluations[0].reason == "cooling down for another 30s"


def test_for_duration_needs_the_condition_to_hold_that_long(tmp_path: Path) -> None:
    feed = Feed(*load(tmp_path, """
        rules:
          - id: sustained
            trigger: {uplink: {}}
            condition: {">": [{var: decoded.t}, 30]}
            for: {duration: 5m}
            actions: [log: {message: x}]
    """))
    assert feed.fired(0, t=31) == []
    assert feed.fired(120, t=32) == []
    assert feed.fired(240, t=20) == []    # broken: starts over
    assert feed.fired(300, t=31) == []
    assert feed.fired(599, t=31) == []
    assert feed.fired(600, t=31) == ["sustained"]
    assert feed.fired(660, t=31) == ["sustained"]   # keeps firing while held (add edge: for once)


def test_for_count_with_edge_fires_once_per_episode(tmp_path: Path) -> None:
    feed = Feed(*load(tmp_path, """
        rules:
          - id: thrice
            trigger: {uplink: {}}
            condition: {"==": [{var: decoded.alarm}, true]}
            for: {count: 3}
            edge: true
            actions: [log: {message: x}]
    """))
    fired = [feed.fired(i * 10, alarm=True) for i in range(5)]
    assert fired == [[], [], ["thrice"], [], []]
    assert feed.fired(60, alarm=False) == []
    assert [feed.fired(70 + i, alarm=True) for i in range(3)] == [[], [], ["thrice"]]


def test_edge_without_clear_rearms_when_false(tmp_path: Path) -> None:
    feed = Feed(*load(tmp_path, """
        rules:
          - id: edge
            trigger: {uplink: {}}
            condition: {var: decoded.on}
            edge: {key: rule}
            actions: [log: {message: x}]
    """))
    assert [feed.fired(i, on=v) for i, v in enumerate([True, True, False, True])] == [["edge"], [], [], ["edge"]]


def test_throttle_is_a_sliding_window_per_key(tmp_path: Path) -> None:
    feed = Feed(*load(tmp_path, """
        rules:
          - id: t
            trigger: {uplink: {}}
            throttle: {max: 2, per: 1m, key: gateway}
            actions: [log: {message: x}]
    """))
    assert [feed.fired(s) for s in (0, 10, 20)] == [["t"], ["t"], []]
    assert feed.fired(25, gateway="$101$0-0-0-000000002") == ["t"]
    assert feed.fired(61) == ["t"]     # the 0 s firing left the window
    assert feed.fired(65) == []        # 10 s and 61 s are inside


def test_expression_keys(tmp_path: Path) -> None:
    feed = Feed(*load(tmp_path, """
        rules:
          - id: per-zone
            trigger: {uplink: {}}
            cooldown: {duration: 1h, key: {var: decoded.zone}}
            actions: [log: {message: x}]
    """))
    assert feed.fired(0, zone="a") == ["per-zone"]
    assert feed.fired(1, module="$301$0-0-0-000000002", zone="a") == []
    assert feed.fired(2, zone="b") == ["per-zone"]


def test_the_index_skips_rules_of_other_tokens_and_ports(tmp_path: Path) -> None:
    ruleset, toolkit = load(tmp_path, """
        rules:
          - {id: plant-1, trigger: {uplink: {app_token: plant, port: 1}}, actions: [log: {message: x}]}
          - {id: plant-any, trigger: {uplink: {app_token: plant}}, actions: [log: {message: x}]}
          - {id: other-1, trigger: {uplink: {app_token: other, port: 1}}, actions: [log: {message: x}]}
          - {id: any-2, trigger: {uplink: {port: 2}}, actions: [log: {message: x}]}
          - {id: nightly, trigger: {schedule: {cron: "0 2 * * *"}}, actions: [log: {message: x}]}
    """)
    feed = Feed(ruleset, toolkit)
    evaluated = [e.rule_id for e in feed.uplink(0, port=1, trace=True).evaluations]
    assert evaluated == ["plant-1", "plant-any"]
    evaluated = [e.rule_id for e in feed.uplink(1, token=OTHER, port=2, trace=True).evaluations]
    assert evaluated == ["any-2"]


def test_failures_are_recorded_not_raised(tmp_path: Path) -> None:
    feed = Feed(*load(tmp_path, """
        rules:
          - id: needs-value
            trigger: {uplink: {}}
            actions:
              - unicast:
                  payload: [{type: u8, expr: {var: decoded.level}}]
              - log: {message: "level {decoded.level}"}
    """))
    firing = feed.uplink(0, level=300).firings[0]
    unicast, log = firing.intents
    assert unicast.error and "300" in unicast.error and unicast.params == {}
    assert log.error is None and log.params["message"] == "level 300"
    assert [i.key for i in firing.intents] == ["needs-value|u1|0", "needs-value|u1|1"]


def test_decode_errors_are_visible_to_conditions(tmp_path: Path) -> None:
    ruleset, toolkit = load(tmp_path, """
        rules:
          - id: garbled
            trigger: {uplink: {}}
            condition: {"!!": {var: uplink.decode_error}}
            actions: [log: {message: "{uplink.decode_error}"}]
    """)
    feed = Feed(ruleset, toolkit)
    from rules_engine.models import Uplink, UplinkEvent
    from .helpers import START, TOKEN

    broken = Uplink(uuid="x", time=START, module="$301$0-0-0-000000001", port=1, payload=b"{nope", app_token=TOKEN)
    result = feed.matcher.match(UplinkEvent(item=toolkit.decode(broken)), feed.store)
    assert [f.rule_id for f in result.firings] == ["garbled"]
    assert "json" in result.firings[0].intents[0].params["message"]


def test_evaluation_trace_keeps_the_values_that_decided(tmp_path: Path) -> None:
    feed = Feed(*load(tmp_path, """
        rules:
          - id: hot
            trigger: {uplink: {}}
            condition: {and: [{">": [{var: decoded.t}, 30]}, {"==": [{var: uplink.port}, 1]}]}
            actions: [log: {message: x}]
    """))
    evaluation = feed.uplink(0, t=31.5).firings[0].evaluation
    assert evaluation.values == {"decoded.t": 31.5, "uplink.port": 1}
    assert evaluation.condition is True and evaluation.fired


def test_device_context_is_the_state_before_this_uplink(tmp_path: Path) -> None:
    feed = Feed(*load(tmp_path, """
        rules:
          - id: back-after-a-gap
            trigger: {uplink: {}}
            condition:
              and:
                - {"!!": {var: device.last_seen}}      # without it, a first uplink's null counts as 0
                - {">": [{"-": [{var: now}, {var: device.last_seen}]}, 3600]}
            actions: [log: {message: "{device.uplinks} earlier uplinks"}]
    """))
    assert feed.fired(0) == []
    assert feed.fired(1800) == []
    firing = feed.uplink(1800 + 3601).firings[0]
    assert firing.intents[0].params["message"] == "2 earlier uplinks"
