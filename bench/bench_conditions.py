"""Benchmark: compiled JsonLogic conditions against hand-written Python and panzi-json-logic.

The six IoT conditions R1-R6 of the shared conformance README, evaluated on a handful of uplink
contexts (matching, not matching, fields missing, a failed decode). For each condition: evaluations
per second of the hand-written function, of ``compile_condition`` (the default tiered backend once
the condition is hot, i.e. its generated code; and the closure backend, which is what a tiered
condition runs on for its first evaluations) and of panzi-json-logic 1.0.1, measured in one run, interleaved,
best of N. Then the time to compile R6 (about 25 nodes) with each backend, and the one-off cost of
the tiered backend's switch to generated code. Target checks print PASS/MISS; this is a
benchmark, not a test, and never fails.

The hand-written functions implement the same logic with the same JsonLogic semantics on these
contexts (a missing number reads as 0, as in JsonLogic), and all three evaluators are checked to
agree on every context before anything is timed.

    python -m bench conditions
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from rules_engine.conditions import compile_condition, standard_operators
from rules_engine.conditions.tiered import TIER_UP_AFTER

Evaluator = Callable[[Any], Any]

ROUNDS = 9  # best of
TARGET_SECONDS = 0.04  # per timed batch

MODULES = ["$301$0-0-0-030001665", "$301$0-0-0-030001666"]
GATEWAYS = ["$101$0-0-0-db9360b95", "$101$0-0-0-db9360b96", "$101$0-0-0-db9360b97"]

RULES: dict[str, Any] = {
    "R1": {
        "and": [
            {"==": [{"var": "uplink.port"}, 2]},
            {">": [{"var": "decoded.temperature"}, 30]},
            {"in": [{"var": "uplink.module"}, MODULES]},
        ]
    },
    "R2": {"or": [{"<": [{"var": "decoded.battery"}, 3.3]}, {"!": {"<=": [10, {"var": "decoded.humidity"}, 80]}}]},
    "R3": {"some": [{"var": "decoded.readings"}, {">": [{"var": "value"}, 50]}]},
    "R4": {
        "and": [
            {"==": [{"var": "decoded.status"}, "ok"]},
            {"all": [{"var": "decoded.readings"}, {"<": [0, {"var": "value"}, 100]}]},
        ]
    },
    "R5": {
        "and": [
            {"!": {"missing": ["decoded.temperature", "decoded.humidity"]}},
            {">=": [{"var": "decoded.temperature"}, 25]},
        ]
    },
    "R6": {
        "or": [
            {"and": [{"==": [{"var": "uplink.port"}, 2]}, {">": [{"var": "decoded.temperature"}, 40]}]},
            {"and": [{"!": {"missing": ["decoded.battery"]}}, {"<": [{"var": "decoded.battery"}, 3.0]}]},
            {"and": [{"==": [{"var": "decoded.status"}, "alarm"]}, {"in": [{"var": "uplink.gateway"}, GATEWAYS]}]},
            {">=": [{"var": "decoded.humidity"}, 95]},
        ]
    },
}

# -- hand-written equivalents --------------------------------------------------------------------

_MODULE_SET = frozenset(MODULES)
_GATEWAY_SET = frozenset(GATEWAYS)


def r1(ctx: dict[str, Any]) -> bool:
    uplink = ctx.get("uplink") or {}
    decoded = ctx.get("decoded") or {}
    return uplink.get("port") == 2 and (decoded.get("temperature") or 0) > 30 and uplink.get("module") in _MODULE_SET


def r2(ctx: dict[str, Any]) -> bool:
    decoded = ctx.get("decoded") or {}
    return (decoded.get("battery") or 0) < 3.3 or not 10 <= (decoded.get("humidity") or 0) <= 80


def r3(ctx: dict[str, Any]) -> bool:
    readings = (ctx.get("decoded") or {}).get("readings")
    return type(readings) is list and any((reading.get("value") or 0) > 50 for reading in readings)


def r4(ctx: dict[str, Any]) -> bool:
    decoded = ctx.get("decoded") or {}
    readings = decoded.get("readings")
    return (
        decoded.get("status") == "ok"
        and type(readings) is list
        and len(readings) > 0
        and all(0 < (reading.get("value") or 0) < 100 for reading in readings)
    )


def r5(ctx: dict[str, Any]) -> bool:
    decoded = ctx.get("decoded") or {}
    temperature, humidity = decoded.get("temperature"), decoded.get("humidity")
    return temperature not in (None, "") and humidity not in (None, "") and temperature >= 25


def r6(ctx: dict[str, Any]) -> bool:
    uplink = ctx.get("uplink") or {}
    decoded = ctx.get("decoded") or {}
    battery = decoded.get("battery")
    return (
        (uplink.get("port") == 2 and (decoded.get("temperature") or 0) > 40)
        or (battery not in (None, "") and battery < 3.0)
        or (decoded.get("status") == "alarm" and uplink.get("gateway") in _GATEWAY_SET)
        or (decoded.get("humidity") or 0) >= 95
    )


HAND_WRITTEN: dict[str, Evaluator] = {"R1": r1, "R2": r2, "R3": r3, "R4": r4, "R5": r5, "R6": r6}


def contexts() -> list[dict[str, Any]]:
    """Uplink contexts: some match, some do not, some lack fields, one failed to decode."""

    def uplink(module: int, port: int, gateway: int, seconds: int) -> dict[str, Any]:
        return {
            "module": MODULES[module] if module < 2 else "$301$0-0-0-030009999",
            "gateway": GATEWAYS[gateway],
            "port": port,
            "payload_hex": "0a1b2c3d",
            "time": f"2026-11-25T10:{seconds:02d}:00.000",
            "uuid": f"5b3c7e2a-0000-4000-8000-{seconds:012d}",
            "signal": {"rssi": -97 - seconds, "snr": 7.5},
        }

    def readings(*values: float) -> list[dict[str, Any]]:
        return [{"ch": i, "value": value} for i, value in enumerate(values)]

    def context(up: dict[str, Any], decoded: dict[str, Any] | None) -> dict[str, Any]:
        device = {"last_seen": "2026-11-25T09:58:00.000", "state": {"alarm": False}}
        return {"uplink": up, "decoded": decoded, "device": device, "now": 1795600000}

    full = ("temperature", "humidity", "battery", "status", "readings")
    return [
        context(uplink(0, 2, 0, 1), dict(zip(full, (31.5, 45, 3.6, "ok", readings(12, 55.5, 40)), strict=True))),
        context(uplink(1, 2, 1, 2), dict(zip(full, (22.0, 85, 3.1, "alarm", readings(99, 3)), strict=True))),
        context(uplink(2, 3, 2, 3), dict(zip(full, (44, 96, 3.5, "ok", readings(20, 30, 40, 50)), strict=True))),
        context(uplink(0, 2, 0, 4), {"humidity": 50, "status": "ok", "readings": []}),  # no temperature
        context(uplink(1, 1, 2, 5), {"temperature": 26, "battery": 2.9, "status": "alarm"}),  # no readings
        context(uplink(0, 2, 1, 6), None),  # the decoder failed
        context(uplink(2, 2, 0, 7), dict(zip(full, (35.5, 60, 3.4, "ok", readings(51, 52, 53, 54, 101)), strict=True))),
        context(uplink(1, 2, 0, 8), dict(zip(full, (30, 10, 3.3, "ok", readings(1, 99)), strict=True))),
    ]


# -- measurement ---------------------------------------------------------------------------------


def _per_second(evaluate: Evaluator, batch: list[Any], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        deque(map(evaluate, batch), 0)
    return len(batch) * repeat / (time.perf_counter() - started)


def _calibrate(evaluate: Evaluator, batch: list[Any]) -> int:
    repeat = 1
    while True:
        started = time.perf_counter()
        for _ in range(repeat):
            deque(map(evaluate, batch), 0)
        if time.perf_counter() - started >= TARGET_SECONDS / 4:
            return max(1, int(repeat * TARGET_SECONDS / (time.perf_counter() - started)))
        repeat *= 4


def _rates(evaluators: dict[str, Evaluator], batch: list[Any]) -> dict[str, float]:
    repeats = {name: _calibrate(evaluate, batch) for name, evaluate in evaluators.items()}
    best = dict.fromkeys(evaluators, 0.0)
    for _ in range(ROUNDS):  # interleaved: every evaluator once per round
        for name, evaluate in evaluators.items():
            best[name] = max(best[name], _per_second(evaluate, batch, repeats[name]))
    return best


def _best_microseconds(run: Callable[[], Any], rounds: int) -> float:
    best = math.inf
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best * 1e6


def _cold_microseconds(compile_once: Callable[[Any], Any], rounds: int = 40) -> float:
    """Best-of-N microseconds of ``compile_once(registry)``, each time with a fresh registry (built
    outside the timing), so no compiled code of the same shape is cached."""
    best = math.inf
    for registry in [standard_operators() for _ in range(rounds)]:
        started = time.perf_counter()
        compile_once(registry)
        best = min(best, time.perf_counter() - started)
    return best * 1e6


def _compile_times(rule: Any, data: Any) -> dict[str, float]:
    """Best-of-N microseconds to compile ``rule`` with each backend, and the one-off cost of the
    tiered backend's switch to generated code (its first evaluation with ``tier_up_after=1``)."""

    def tier_up(registry: Any) -> None:
        evaluate = compile_condition(rule, operators=registry, tier_up_after=1)
        started = time.perf_counter()
        evaluate(data)
        tier_up_seconds.append(time.perf_counter() - started)

    tier_up_seconds: list[float] = []
    _cold_microseconds(tier_up)
    registry = standard_operators()
    return {
        # No code is generated at load, so a warm registry caches nothing that matters here.
        "tiered (default), at load": _best_microseconds(lambda: compile_condition(rule, operators=registry), 300),
        "tiered, its later switch": min(tier_up_seconds) * 1e6,
        "codegen, first of its shape": _cold_microseconds(
            lambda registry: compile_condition(rule, operators=registry, backend="codegen")
        ),
        "codegen, shape seen before": _best_microseconds(
            lambda: compile_condition(rule, operators=registry, backend="codegen"), 300
        ),
        "closures": _best_microseconds(lambda: compile_condition(rule, operators=registry, backend="closures"), 300),
    }


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _count_nodes(rule: Any) -> int:
    if isinstance(rule, dict):
        ((name, args),) = rule.items()
        if name == "var":
            return 1
        return 1 + sum(_count_nodes(arg) for arg in (args if isinstance(args, list) else [args]))
    if isinstance(rule, list):
        return 1 if all(not isinstance(item, (dict, list)) for item in rule) else sum(map(_count_nodes, rule))
    return 1


def _format_rate(rate: float) -> str:
    return f"{rate / 1e6:.2f}M" if rate >= 1e6 else f"{rate / 1e3:.0f}k"


def _panzi() -> Callable[[Any, Any], Any] | None:
    try:
        from json_logic import jsonLogic  # type: ignore[import-not-found,unused-ignore]  # panzi 1.0.1
    except ImportError:
        print("panzi-json-logic is not installed (pip install 'panzi-json-logic==1.0.1', the 'bench' extra)")
        return None
    return jsonLogic  # type: ignore[no-any-return]


def main() -> None:
    json_logic = _panzi()
    if json_logic is None:
        return
    batch = contexts()
    rows = []
    for name, rule in RULES.items():
        compiled = compile_condition(rule)  # the default, tiered: closures until it is hot
        closures = compile_condition(rule, backend="closures")
        for _ in range(TIER_UP_AFTER):
            compiled(batch[0])
        assert hasattr(compiled, "__source__"), f"{name}: the tiered condition did not switch to generated code"
        hand = HAND_WRITTEN[name]

        def panzi(data: Any, rule: Any = rule) -> Any:
            return json_logic(rule, data)

        # Equal work: every evaluator gives the same result (same type) on every context.
        for ctx in batch:
            results = [hand(ctx), compiled(ctx), closures(ctx), panzi(ctx)]
            assert all(_same(result, results[0]) for result in results), f"{name} disagrees on {ctx}: {results}"
        rates = _rates({"hand": hand, "compiled": compiled, "closures": closures, "panzi": panzi}, batch)
        rows.append((name, rates))
        matches = sum(1 for ctx in batch if hand(ctx))
        print(f"  {name}: {matches}/{len(batch)} contexts match", flush=True)

    print()
    columns = ("condition", "hand-written", "compiled", "closures", "panzi", "compiled/hand", "vs panzi")
    widths = (10, 13, 11, 11, 9, 15, 10)
    header = f"{columns[0]:<{widths[0]}}" + "".join(
        f"{title:>{width}}" for title, width in zip(columns[1:], widths[1:], strict=True)
    )
    print(header)
    print("-" * len(header))
    ratios, speedups = [], []
    for name, rates in rows:
        ratio, speedup = rates["hand"] / rates["compiled"], rates["compiled"] / rates["panzi"]
        ratios.append(ratio)
        speedups.append(speedup)
        cells = [_format_rate(rates[key]) for key in ("hand", "compiled", "closures", "panzi")]
        line = "".join(f"{cell:>{width}}" for cell, width in zip(cells, widths[1:5], strict=True))
        print(f"{name:<10}{line}{ratio:>14.2f}x{speedup:>9.0f}x")
    geomean = math.exp(sum(map(math.log, ratios)) / len(ratios))
    geo_speedup = math.exp(sum(map(math.log, speedups)) / len(speedups))
    print(f"{'geomean':<10}{'':>54}{geomean:>14.2f}x{geo_speedup:>9.0f}x")
    print("compiled/hand: time of compiled / time of hand-written (1.00x = as fast; lower is faster)")
    print("vs panzi: how many times faster compiled is than panzi-json-logic")
    hand_vs_panzi = ", ".join(f"{name} {rates['hand'] / rates['panzi']:.0f}x" for name, rates in rows)
    print(f"(for reference, hand-written vs panzi: {hand_vs_panzi})")

    big = RULES["R6"]
    times = _compile_times(big, batch[0])
    print()
    print(f"compile R6 ({_count_nodes(big)} nodes), best of N:")
    for label, micros in times.items():
        print(f"  {label:<30}{micros:8.0f} us")

    load = times["tiered (default), at load"]
    print()
    print("targets:")
    checks = [
        (f"geomean within 1.5x of hand-written ({geomean:.2f}x)", geomean <= 1.5),
        (f">= 30x faster than panzi on every condition (worst {min(speedups):.0f}x)", min(speedups) >= 30),
        (f"compile of a 25-node rule < 100 us (default backend: {load:.0f} us)", load < 100),
    ]
    for text, ok in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {text}")
    print(
        f"  info  the tiered backend generates code on a condition's {TIER_UP_AFTER}th evaluation "
        f"({times['tiered, its later switch']:.0f} us, once); codegen from the start: "
        f"{times['codegen, first of its shape']:.0f} us"
    )
