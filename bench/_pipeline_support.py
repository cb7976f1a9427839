"""Shared pieces of ``bench_pipeline``: the page corpus, the 100 rules, an in-process engine, the
per-page loops (JSON floor, parse, full pipeline with optional stage timers), and the readings
the end-to-end run takes from outside the daemon (metrics, CPU, its ledger).

The corpus is real simulator output: a seeded fleet on a ManualClock, with a few AppToken
multicasts so the devices' ack replies (port 7) are mixed in, queried once up front through the
simulator's own ASGI app (``/events`` pages of at most 500, following ``pageId``), window by
window and AppToken by AppToken, as a poll cycle would. The bodies are the bytes the simulator
served; nothing is hand-built.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import resource
import sqlite3
import textwrap
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from rules_engine.clock import ManualClock
from rules_engine.conductor import ConductorClient, ConductorURLs
from rules_engine.conductor._uplink_page import parse_uplink_page_content
from rules_engine.conductor.timefmt import format_time
from rules_engine.config import EngineConfig
from rules_engine.engine import Engine
from rules_engine.hotpath import gc_paused
from rules_engine.ledger.store import Ledger
from rules_engine.pipeline.dedupe import known_filter
from rules_engine.rules.loader import load_rules
from rules_engine.simulator import FleetConfig, Simulator, create_app
from rules_engine.jsonfast import loads as parse_json  # what the Conductor client parses response bodies with
from rules_engine.toolkit import Toolkit

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
PAGE_URL = "http://sim/clientEdge/data/uplinkPayload/applicationToken/x/events/a/b"

#: The simulator's env-v1 layout (docs/simulator.md), as a struct decoder: ``>BhBHBB``.
ENV_DECODER: dict[str, Any] = {"type": "struct", "fields": [
    {"name": "message_type", "type": "u8"}, {"name": "temperature", "type": "i16_be", "scale": 0.01},
    {"name": "humidity", "type": "u8"}, {"name": "battery_mv", "type": "u16_be"},
    {"name": "button", "type": "u8", "offset": 6, "bits": 0}, {"name": "tamper", "type": "u8", "offset": 6, "bits": 1},
    {"name": "low_battery", "type": "u8", "offset": 6, "bits": 2}, {"name": "counter", "type": "u8", "offset": 7},
]}
#: Ack replies: ``AC`` + the first 4 bytes of the downlink.
ACK_DECODER: dict[str, Any] = {"type": "struct", "fields": [{"name": "marker", "type": "u8"}, {"name": "echo", "type": "u32_be"}]}


# -- corpus ---------------------------------------------------------------------------------------


@dataclass
class Page:
    alias: str
    cursor_ts: float
    body: bytes
    count: int


@dataclass
class Corpus:
    pages: list[Page]
    tokens: dict[str, str]  # alias -> hash
    uplinks: int
    acks: int
    span_s: float
    generate_s: float = 0.0
    fleet: dict[str, Any] = field(default_factory=dict)
    simulator: Simulator | None = None  # on its ManualClock, at the end of the corpus

    @property
    def bytes(self) -> int:
        return sum(len(p.body) for p in self.pages)


def build_corpus(uplinks: int, *, devices: int = 2000, app_tokens: int = 4, gateways: int = 8, window_s: float = 60.0,
                 multicast_every_s: float = 900.0, seed: int = 5) -> Corpus:
    """Pages holding about ``uplinks`` uplinks (data + ack replies) from ``app_tokens`` tokens."""
    started = time.perf_counter()
    clock = ManualClock(START)
    config = FleetConfig.generate(devices=devices, gateways=gateways, app_tokens=app_tokens, seed=seed, uplink_interval_s=60)
    sim = Simulator(config, clock=clock)
    tokens = {f"t{i}": h for i, h in enumerate(sim.app_tokens)}
    rate = devices / 60.0 * 1.06  # data uplinks per second, plus ~6% ack replies (measured, roughly)
    span = uplinks / rate
    next_multicast, step = multicast_every_s / 2, 30.0
    elapsed = 0.0
    rng = random.Random(seed)
    while elapsed < span + 5:
        sim.advance(step)
        elapsed += step
        if elapsed >= next_multicast:
            for token in sim.app_tokens:  # a firmware-style "report now" to the whole token: each ALWAYS device acks
                payload = f"5A{rng.getrandbits(24):06X}"
                sim.issue_command({"commandTargets": {"targetAppToken": token},
                                   "commandProperties": {"payloadHex": payload, "commReqs": {"portNumber": 10, "ttlMSecs": 60000}}})
            next_multicast += multicast_every_s
    pages = asyncio.run(_fetch_pages(sim, tokens, START, START + timedelta(seconds=span), window_s))
    total = sum(p.count for p in pages)
    acks = len(sim.uplinks(kind="ack", until=START + timedelta(seconds=span)))
    return Corpus(pages, tokens, total, acks, span, time.perf_counter() - started,
                  {"devices": devices, "app_tokens": app_tokens, "gateways": gateways}, sim)


async def _fetch_pages(sim: Simulator, tokens: dict[str, str], start: datetime, stop: datetime, window_s: float) -> list[Page]:
    transport = httpx.ASGITransport(app=create_app(sim))
    pages: list[Page] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://sim", auth=(sim.username, sim.password)) as http:
        low = start
        while low < stop:
            high = min(low + timedelta(seconds=window_s), stop)
            for alias, token in tokens.items():
                url = f"/clientEdge/data/uplinkPayload/applicationToken/{token}/events/{format_time(high)}/{format_time(low)}"
                params: dict[str, str] = {}
                while True:
                    response = await http.get(url, params=params)
                    response.raise_for_status()
                    body = response.content
                    envelope = json.loads(body)
                    pages.append(Page(alias, high.timestamp(), body, len(envelope["results"])))
                    if not envelope["nextPageId"]:
                        break
                    params = {"pageId": envelope["nextPageId"]}
            low = high + timedelta(milliseconds=1)  # windows are inclusive at both ends
    return [p for p in pages if p.count]


# -- rules ----------------------------------------------------------------------------------------


def rules_yaml(groups: list[list[str]]) -> str:
    """100 rules in the shape operators write them (see rules/*.yaml): mostly uplink rules on one
    group of AppTokens and one port, conditions on decoded fields, a few with cooldown/edge/for
    keyed by module, actions that plan a multicast or unicast payload and a log. ``groups``: the
    AppToken aliases a rule can name (one alias per group in the in-process benchmark, 25 in the
    end-to-end one). Tuned on the simulator's env-v1 fleet for ~1% firings per uplink."""
    n = len(groups)
    out: list[str] = ["rules:"]

    def tokens(*indexes: int) -> str:
        return "[" + ", ".join(dict.fromkeys(a for i in indexes for a in groups[i % n])) + "]"

    def add(head: str, actions: str) -> None:
        out.append(textwrap.indent(textwrap.dedent(head).strip() + "\n  actions:\n" + actions, "  "))

    multicast = """\
    - multicast:
        gateway: {{var: uplink.gateway}}
        port: 10
        ttl: 2m
        payload:
          - {{name: command, type: u8, value: {cmd}}}
          - {{name: setpoint, type: i16_be, expr: {{var: decoded.temperature}}, scale: 0.01}}
    - log: {{message: "{{uplink.module}} {what} ({{decoded.temperature}} C) via {{uplink.gateway}}", level: warning}}"""
    unicast = """\
    - unicast:
        module: {{var: uplink.module}}
        port: 11
        payload:
          - {{name: command, type: u8, value: {cmd}}}
          - {{name: value, type: u16_be, expr: {{var: decoded.battery_mv}}}}
    - log: {{message: "{{uplink.module}} {what}"}}"""
    present = '{"!": {missing: [decoded.%s]}}'
    for i in range(30):  # hot spots: a high threshold, hysteresis per module
        t = 31.2 + (i // n) * 0.35
        add(f"""\
- id: overheat-{i:02d}
  trigger: {{uplink: {{app_token: {tokens(i)}, port: 1}}}}
  condition: {{and: [{present % "temperature"}, {{">": [{{var: decoded.temperature}}, {t:.2f}]}}]}}
  edge: {{clear: {{"<": [{{var: decoded.temperature}}, {t - 2:.2f}]}}, key: module}}""",
            multicast.format(cmd=0x20 + i % 8, what="overheating"))
    for i in range(20):  # cold spots, debounced: three cold readings in a row, then once an hour per module
        t = 13.2 + (i // n) * 0.2
        add(f"""\
- id: cold-{i:02d}
  trigger: {{uplink: {{app_token: {tokens(i)}, port: 1}}}}
  condition: {{and: [{present % "temperature"}, {{"<": [{{var: decoded.temperature}}, {t:.2f}]}}]}}
  for: {{count: 3, key: module}}
  cooldown: {{duration: 1h, key: module}}""", multicast.format(cmd=0x30 + i % 8, what="too cold"))
    for i in range(15):  # a button press on a damp device
        add(f"""\
- id: humidity-{i:02d}
  trigger: {{uplink: {{app_token: {tokens(i) if i % 3 else tokens(i, i + 1)}, port: 1}}}}
  condition: {{and: [{{"==": [{{var: decoded.button}}, 1]}}, {present % "humidity"}, {{">": [{{var: decoded.humidity}}, {68 + i // 5}]}}]}}
  cooldown: {{duration: 30m, key: module}}""", unicast.format(cmd=0x40 + i % 8, what="humidity check requested"))
    for i in range(10):  # low battery: never true in this fleet, evaluated on every uplink (`for` state)
        add(f"""\
- id: battery-{i:02d}
  trigger: {{uplink: {{app_token: {tokens(i)}, port: 1}}}}
  condition: {{and: [{present % "battery_mv"}, {{"<": [{{var: decoded.battery_mv}}, {3000 + 20 * i}]}}]}}
  for: {{count: 3}}
  cooldown: {{duration: 1d, key: module}}""", unicast.format(cmd=0x31, what="battery low"))
    for i in range(5):  # tamper, on every AppToken: rare, urgent
        add(f"""\
- id: tamper-{i}
  trigger: {{uplink: {{port: 1}}}}
  condition: {{and: [{{"==": [{{var: decoded.tamper}}, 1]}}, {present % "counter"}, {{"==": [{{"%": [{{var: decoded.counter}}, 5]}}, {i}]}}]}}
  cooldown: {{duration: 10m, key: module}}""", unicast.format(cmd=0x50, what="tampered"))
    for i in range(8):  # ack replies on port 7
        add(f"""\
- id: ack-{i}
  trigger: {{uplink: {{app_token: {tokens(i)}, port: 7}}}}
  condition: {{and: [{{"==": [{{var: decoded.marker}}, 172]}}, {{"==": [{{var: decoded.echo}}, {0x5A000000 + i}]}}]}}""",
            '    - log: {message: "{uplink.module} acked"}')
    for i in range(6):  # a port no device uses here: the index never looks at these
        add(f"""\
- id: gps-{i}
  trigger: {{uplink: {{app_token: {tokens(i)}, port: 2}}}}
  condition: {{and: [{present % "counter"}, {{">": [{{var: decoded.counter}}, 250]}}]}}""", '    - log: {message: "{uplink.module} moved"}')
    for i in range(3):
        add(f"- id: silent-{i}\n  trigger: {{silence: {{after: {15 + 15 * i}m, app_token: {tokens(i)}}}}}",
            '    - log: {message: "{device.module} silent"}')
        add(f"- id: tick-{i}\n  trigger: {{schedule: {{every: {5 + i}m}}}}", "    - log: {message: tick}")
    return "\n".join(out) + "\n"


# -- engine ---------------------------------------------------------------------------------------


def engine_config(tokens: dict[str, str]) -> EngineConfig:
    return EngineConfig.model_validate({
        "app_tokens": {alias: {"token": token, "decoder": "env", "ports": {7: "ack"}} for alias, token in tokens.items()},
        "decoders": {"env": ENV_DECODER, "ack": ACK_DECODER},
    })


def build_engine(tmp: Path, tokens: dict[str, str], *, server: Any = None) -> Engine:
    """The real Engine over a real SQLite ledger file. Its Conductor client is only called when
    ``server`` (a SimulatorServer on a ManualClock) is given: then it shares the simulator's clock."""
    config = engine_config(tokens)
    toolkit = Toolkit.create(config, entry_points=False)
    (tmp / "rules.yaml").write_text(rules_yaml([[alias] for alias in tokens]))
    ruleset = load_rules([tmp / "rules.yaml"], toolkit)
    if ruleset.problems or len(ruleset.rules) != 100:
        raise RuntimeError(f"bench rules did not load cleanly: {len(ruleset.rules)} rules, {ruleset.problems[:3]}")
    clock = server.simulator.clock if server is not None else ManualClock(START + timedelta(days=1))
    url, auth = (server.base_url, server.auth) if server is not None else ("http://127.0.0.1:9", ("bench", "bench"))
    client = ConductorClient(*auth, urls=ConductorURLs.single_origin(url), clock=clock)
    return Engine(config, toolkit, ruleset, Ledger.open_writer(tmp / "ledger.db"), client, clock=clock)


def close_engine(engine: Engine) -> None:
    async def close() -> None:
        await engine.conductor.aclose()
        await engine.aclose()

    asyncio.run(close())
    engine.ledger.close()


def ledger_counts(engine: Engine) -> dict[str, int]:
    conn = engine.ledger.conn
    return {
        "uplinks": conn.execute("SELECT count(*) FROM uplinks").fetchone()[0],
        "firings": conn.execute("SELECT count(*) FROM firings").fetchone()[0],
        "intents": conn.execute("SELECT count(*) FROM outbox").fetchone()[0],
        "downlinks": conn.execute("SELECT count(*) FROM outbox WHERE action IN ('multicast', 'unicast')").fetchone()[0],
        "fired_uplinks": conn.execute("SELECT count(DISTINCT event_id) FROM firings").fetchone()[0],
    }


# -- the three loops ------------------------------------------------------------------------------


def run_floor(pages: list[Page]) -> int:
    return sum(len(parse_json(page.body)["results"]) for page in pages)


def run_parse(pages: list[Page]) -> int:
    return sum(len(parse_uplink_page_content(page.body, PAGE_URL).uplinks) for page in pages)


# -- readings -------------------------------------------------------------------------------------


def rss_mb() -> float:
    """Current resident set size (VmRSS), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape_metrics(port: int) -> dict[str, float]:
    """The daemon's /metrics, each metric summed over its labels."""
    totals: dict[str, float] = {}
    for line in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text.splitlines():
        if line and not line.startswith("#"):
            name = line.split("{")[0].split(" ")[0]
            totals[name] = totals.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals


def snapshot(ledger: Path, port: int, pid: int) -> dict[str, Any]:
    """What the end-to-end run reads from outside the daemon at both ends of its window."""
    (backlog,), = query(ledger, "SELECT count(*) FROM outbox WHERE status IN ('pending', 'in_flight')")
    (oldest,), = query(ledger, "SELECT min(cursor_ts) FROM cursors")
    now = time.time()
    return {"t": now, "metrics": scrape_metrics(port), "daemon_cpu": cpu_seconds(pid), "sim_cpu": time.process_time(),
            "backlog": backlog, "lag": now - oldest}


def daemon_logging() -> tuple[list[Any], int]:
    """Log as the daemon does by default (text, info: a line per firing and per action sent), into
    /dev/null; returns what to restore."""
    from rules_engine.logs import configure_logging

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("text", "info", stream=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    return saved


def query(ledger: Path, sql: str, *args: Any) -> list[Any]:
    """Read another process's ledger, read-only (WAL lets it write meanwhile)."""
    conn = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


# -- where the time goes --------------------------------------------------------------------------

def _stage_targets(engine: Engine) -> list[tuple[str, Any, str]]:
    """(label, owner, attribute) of the engine's stage functions, those that exist in this version."""
    import rules_engine.engine as module

    wanted = [
        ("dedupe", module, "fresh_uplinks" if hasattr(module, "fresh_uplinks") else "drop_known"), ("decode", engine.toolkit.decoding, "decode_fields" if hasattr(engine.toolkit.decoding, "decode_fields") else "decode"), ("ack matching", getattr(engine, "acks", None), "observe"),
        ("match", engine.matcher, "match_uplink" if hasattr(engine.matcher, "match_uplink") else "match"),
        ("record_uplink", engine.state, "record_uplink"),
        ("write uplinks", module, "write_uplinks"), ("write firings", module, "write_firings"),
        ("state flush", engine.state, "flush"), ("commit", module, "commit_cycle"),
    ]
    return [(label, owner, name) for label, owner, name in wanted if owner is not None and hasattr(owner, name)]


def run_pipeline_timed(engine: Engine, pages: list[Page], *, stages: bool = False) -> tuple[int, float, list[float], dict[str, float]]:
    """The full pipeline page by page, as a poll cycle runs it: the client's page parser
    (``parse_uplink_page_content``, with the ledger's known-uuid filter as ``Engine.poll`` passes it),
    ``engine._process`` (one commit per page). Returns (new uplinks, seconds, uplinks/s of each
    page, seconds per stage). With ``stages``, the engine's stage functions are wrapped from
    outside for this run (instance attributes, and the names ``engine.py`` imported), then put
    back; a wrapper costs ~0.3 µs per call, ~1-2 µs per uplink in all. "rest of _process" is what
    no wrapper saw (per-uplink models, metrics, the transaction's COMMIT)."""
    clock = time.perf_counter
    targets = _stage_targets(engine) if stages else []
    spent = {"parse page": 0.0, **{label: 0.0 for label, _, _ in targets}}

    def timed(label: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += clock() - started
        return wrapper

    restore = []
    for label, owner, name in targets:
        own = isinstance(owner, type(json)) or name in getattr(owner, "__dict__", {})
        restore.append((owner, name, getattr(owner, name), own))
        setattr(owner, name, timed(label, getattr(owner, name)))
    n, process_total, per_page = 0, 0.0, []
    started = clock()
    try:
        for page in pages:
            with gc_paused():  # as Engine.poll: held from the body to the commit, the page's objects freed inside
                t0 = clock()
                token = engine.tokens[page.alias].token
                parsed = parse_uplink_page_content(page.body, PAGE_URL, known=known_filter(engine.ledger.conn, engine.stored.of(token)))
                t1 = clock()
                fresh = engine._process(page.alias, list(parsed.uplinks), page.cursor_ts, parsed.times)
                del parsed
                t2 = clock()
            n += fresh
            process_total += t2 - t1
            spent["parse page"] += t1 - t0
            per_page.append(fresh / (t2 - t0))
    finally:
        total = clock() - started
        for owner, name, original, own in restore:
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)
    nested = {"state flush"} if any(label == "commit" for label, _, _ in targets) else set()  # old engines flush inside commit
    spent["rest of _process"] = process_total - sum(spent[label] for label, _, _ in targets if label not in nested)
    return n, total, per_page, spent
