"""Prometheus metrics, one registry per engine (no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.uplinks = Counter("rules_engine_uplinks_total", "New uplinks processed", ["app_token"], registry=r)
        self.duplicates = Counter("rules_engine_uplinks_duplicate_total", "Uplinks seen again (window overlap)", ["app_token"], registry=r)
        self.decode_errors = Counter("rules_engine_decode_errors_total", "Uplinks whose decoder failed", ["decoder"], registry=r)
        self.firings = Counter("rules_engine_firings_total", "Rule firings", ["rule"], registry=r)
        self.intents = Counter("rules_engine_intents_total", "Action intents by outcome", ["action", "outcome"], registry=r)
        self.sweeps = Counter("rules_engine_poll_sweeps_total", "Poll windows that re-read the full late-ingest overlap",
                              ["app_token"], registry=r)
        self.poll_errors = Counter("rules_engine_poll_errors_total", "Failed polls", ["app_token"], registry=r)
        self.poll_latency = Histogram("rules_engine_poll_duration_seconds", "Duration of one poll cycle", ["app_token"],
                                      buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60), registry=r)
        self.lag = Gauge("rules_engine_poll_lag_seconds", "Now minus the cursor of the AppToken", ["app_token"], registry=r)
        self.rules_loaded = Gauge("rules_engine_rules_loaded", "Rules currently active", registry=r)
        self.rule_reload_errors = Counter("rules_engine_rule_reload_errors_total", "Rule reloads rejected", registry=r)
        self.rules_healthy = Gauge("rules_engine_rules_last_reload_ok", "1 if the last rule reload succeeded", registry=r)
        self.outbox = Gauge("rules_engine_outbox_intents", "Intents in the outbox by status", ["status"], registry=r)
        self.send_outcomes = Counter("rules_engine_tracked_sends_total", "Tracked sends by outcome", ["outcome"], registry=r)
        self.acks = Counter("rules_engine_acks_total", "Devices that acknowledged a tracked send", registry=r)
        self.ack_latency = Histogram("rules_engine_ack_latency_seconds", "From a tracked send's issue to a device's ack",
                                     buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800), registry=r)
        self.rules_healthy.set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
