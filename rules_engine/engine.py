"""The engine: composes the stages, and is the only module that knows their order.

    poll window -> dedupe -> decode -> match (+ modifier state) -> outbox (one transaction) -> dispatch

Every entry point is a coroutine or function the daemon's scheduler calls; tests call them
directly with a manual clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Sequence

import httpx

from .actions import ExecutionContext
from .clock import Clock
from .conductor import ConductorClient
from .hotpath import gc_paused
from .config import EngineConfig
from .errors import ConductorError, RequestRejectedError
from .ledger.records import get_cursor, record_poll_error, set_swept
from .ledger.state import LedgerState
from .ledger.store import Ledger
from .metrics import Metrics
from .models import ScheduleEvent, SendEvent, SilenceEvent
from .pipeline.decode import decoded_uplink
from .pipeline.dedupe import StoredHorizon, fresh_uplinks, known_filter
from .pipeline.dispatch import Dispatcher, DispatchPolicy
from .pipeline.match import Matcher
from .pipeline.outbox import advance_cursor, cycle, write_firings, write_uplinks
from .acks.matcher import AckMatcher
from .acks.rounds import settle_due_sends
from .pipeline.poll import fetch_window, is_sweep_due, plan_windows
from .rules.index import RuleIndex
from .rules.loader import RuleSet
from .toolkit import Toolkit

__all__ = ["Engine", "EngineSettings", "TokenHealth"]

log = logging.getLogger("rules_engine.engine")

DISPATCH_ROUND = 500


@dataclass(frozen=True)
class EngineSettings:
    first_lookback: timedelta = timedelta(minutes=5)
    chunk: timedelta = timedelta(hours=1)
    max_backoff: timedelta = timedelta(seconds=60)
    max_stop_slack: timedelta = timedelta(minutes=2)


@dataclass
class TokenHealth:
    alias: str
    token: str
    last_success: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    consecutive_errors: int = 0
    next_poll_after: float = 0.0
    cursor_ts: float | None = None
    #: Where the last poll that re-read the full overlap (a sweep) stopped.
    swept_ts: float | None = None


@dataclass
class RuleHealth:
    loaded: int = 0
    files: int = 0
    last_reload_ok: bool = True
    last_reload_error: str | None = None
    last_reload_at: float | None = None
    problems: list[str] = field(default_factory=list)


class Engine:
    def __init__(
        self,
        config: EngineConfig,
        toolkit: Toolkit,
        ruleset: RuleSet,
        ledger: Ledger,
        conductor: ConductorClient,
        *,
        clock: Clock,
        http: httpx.AsyncClient | None = None,
        metrics: Metrics | None = None,
        settings: EngineSettings | None = None,
        dispatch_policy: DispatchPolicy | None = None,
    ) -> None:
        self.config = config
        self.toolkit = toolkit
        self.ledger = ledger
        self.conductor = conductor
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.settings = settings or EngineSettings()
        self.http = http or httpx.AsyncClient(timeout=30.0)
        self.state = LedgerState(ledger.conn)
        self.stored = StoredHorizon(ledger.conn)
        self.acks = AckMatcher(toolkit.compile_expr)
        self.tokens = {alias: TokenHealth(alias, cfg.token) for alias, cfg in config.app_tokens.items()}
        self.rule_health = RuleHealth()
        self._dispatch_lock = asyncio.Lock()
        self.dispatcher = Dispatcher(
            ledger, toolkit.registries.actions,
            ExecutionContext(conductor=conductor, http=self.http, logger=logging.getLogger("rules_engine.actions"), now=clock.now),
            conductor, clock, dispatch_policy, on_result=self._count_intent,
        )
        self.set_rules(ruleset)
        for health in self.tokens.values():
            cursor = get_cursor(ledger.conn, health.token)
            if cursor is not None:
                health.cursor_ts, health.last_success = cursor.cursor_ts, cursor.last_success_at
                health.swept_ts = cursor.swept_ts
                health.consecutive_errors, health.last_error = cursor.consecutive_errors, cursor.last_error

    # -- rules ------------------------------------------------------------------------------------

    def set_rules(self, ruleset: RuleSet) -> None:
        """Switch to a new rule set (already validated); modifier state is kept per rule id."""
        self.ruleset = ruleset
        self.matcher = Matcher(RuleIndex(ruleset.rules), self.toolkit.redecode)
        self.state.discard()
        self.metrics.rules_loaded.set(len(ruleset.rules))
        self.rule_health.loaded, self.rule_health.files = len(ruleset.rules), len(ruleset.files)
        self.rule_health.problems = [str(p) for p in ruleset.warnings]

    def reject_rules(self, problems: list[str]) -> None:
        """A new rule set failed to load: keep the running one and say so everywhere."""
        self.rule_health.last_reload_ok = False
        self.rule_health.last_reload_error = "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")
        self.rule_health.last_reload_at = self.clock.now().timestamp()
        self.metrics.rule_reload_errors.inc()
        self.metrics.rules_healthy.set(0)

    def accept_rules(self, ruleset: RuleSet) -> None:
        self.set_rules(ruleset)
        self.rule_health.last_reload_ok, self.rule_health.last_reload_error = True, None
        self.rule_health.last_reload_at = self.clock.now().timestamp()
        self.metrics.rules_healthy.set(1)

    # -- polling ----------------------------------------------------------------------------------

    async def poll(self, alias: str) -> int:
        """One poll of one AppToken: every window up to now, each committed on its own.

        Returns the number of new uplinks. A Conductor error is recorded (health, metrics,
        ledger) and re-raised; the cursor stays where the last committed window left it.
        """
        health = self.tokens[alias]
        now = self.clock.now()
        if now.timestamp() < health.next_poll_after:
            return 0
        token_config = self.config.app_tokens[alias]
        started = time.perf_counter()
        new = 0
        latest_stop = self.conductor.latest_stop()
        sweep = (token_config.recent_overlap >= token_config.overlap  # every poll reads the full overlap anyway
                 or is_sweep_due(health.swept_ts, latest_stop.timestamp(), token_config.sweep_interval))
        # A sweep starts from where the previous sweep stopped (minus the full overlap), so late
        # ingest anywhere since then is read; other polls from the cursor minus recent_overlap.
        start_ts = (health.swept_ts if sweep and health.swept_ts is not None else health.cursor_ts)
        start = None if start_ts is None else datetime.fromtimestamp(start_ts, tz=now.tzinfo)
        windows = plan_windows(start, latest_stop, overlap=token_config.overlap if sweep else token_config.recent_overlap,
                               first_lookback=self.settings.first_lookback, chunk=self.settings.chunk)
        try:
            known = known_filter(self.ledger.conn, self.stored.of(health.token))
            for window in windows:
                # The collector is held from the response body to the commit and until the
                # window's objects are freed: freed objects leave it nothing to scan.
                with gc_paused():
                    fetched = await fetch_window(self.conductor, health.token, window, known=known)
                    if fetched.known:
                        self.metrics.duplicates.labels(alias).inc(fetched.known)
                    new += self._process(alias, fetched.uplinks, window.stop.timestamp(), fetched.times)
                    del fetched
                if sweep:
                    self._swept(health, window.stop.timestamp())
        except RequestRejectedError as error:
            # Conductor refuses a stop time ahead of its own clock; with an unknown error code and a
            # clock that may be behind ours, step the stop back (1 s -> 4 s -> 16 s ... capped).
            self.conductor.stop_slack = min(self.settings.max_stop_slack, self.conductor.stop_slack * 4)
            self._poll_failed(health, error)
            raise
        except Exception as error:  # Conductor's, or any other (a ledger that refuses writes...): a failed poll
            self._poll_failed(health, error)
            raise
        finally:
            self.metrics.poll_latency.labels(alias).observe(time.perf_counter() - started)
        health.last_success = self.clock.now().timestamp()
        health.consecutive_errors, health.last_error, health.next_poll_after = 0, None, 0.0
        return new

    def _swept(self, health: TokenHealth, stop_ts: float) -> None:
        # Its own small commit: should the process die just before it, the next sweep reads a
        # little more, nothing less.
        with self.ledger.transaction() as conn:
            set_swept(conn, health.token, stop_ts)
        health.swept_ts = max(health.swept_ts or stop_ts, stop_ts)
        self.metrics.sweeps.labels(health.alias).inc()

    def safe_now(self, alias: str) -> float | None:
        """The time up to which every uplink of ``alias`` has surely been read: the last sweep's
        stop minus the overlap (``None`` before the first poll). Silence and acknowledgement
        deadlines are judged against it, never against the wall clock."""
        health = self.tokens[alias]
        reference = health.swept_ts if health.swept_ts is not None else health.cursor_ts
        if reference is None:
            return None
        return reference - self.config.app_tokens[alias].overlap.total_seconds()

    def _poll_failed(self, health: TokenHealth, error: Exception) -> None:
        now = self.clock.now().timestamp()
        health.consecutive_errors += 1
        health.last_error = str(error) if isinstance(error, ConductorError) else f"{type(error).__name__}: {error}"
        health.last_error_at = now
        backoff = min(self.settings.max_backoff.total_seconds(), self.config.app_tokens[health.alias].poll_interval.total_seconds()
                      * (2 ** min(health.consecutive_errors - 1, 10)))
        health.next_poll_after = now + backoff if health.consecutive_errors > 1 else 0.0
        self.metrics.poll_errors.labels(health.alias).inc()
        log.warning("poll failed; the cursor stays", extra={"app_token": health.alias, "error": health.last_error,
                                                            "consecutive_errors": health.consecutive_errors})
        try:
            with self.ledger.transaction() as conn:
                record_poll_error(conn, health.token, health.alias, health.cursor_ts or now, health.last_error, now)
        except Exception:  # the ledger may be why the poll failed: the poll's own error is the one raised
            log.exception("the failed poll could not be recorded in the ledger", extra={"app_token": health.alias})

    def _process(self, alias: str, uplinks: list[Any], cursor_ts: float, times: Sequence[float] | None = None) -> int:
        """One window: dedupe, decode, acks, match, then uplinks, firings, state and cursor in one
        transaction. ``times``: each uplink's time in epoch seconds, when the caller has them."""
        with gc_paused():
            return self._process_window(alias, uplinks, cursor_ts, times)

    def _process_window(self, alias: str, uplinks: list[Any], cursor_ts: float, times: Sequence[float] | None) -> int:
        health = self.tokens[alias]
        now = self.clock.now().timestamp()
        firings = []
        with cycle(self.ledger, self.state) as conn:
            fresh = fresh_uplinks(conn, uplinks, self.stored.of(health.token), times)
            waiting = self.acks.waiting(conn)
            decode, observe, match, record = self.toolkit.decoding.decode_fields, self.acks.observe, self.matcher.match_uplink, self.state.record_uplink
            # Each stage over the whole window in turn, as far as their order allows (decoding reads
            # no state): a stage's code stays in the CPU's instruction cache from one uplink to the next.
            items = [decode(uplink) for _ts, uplink in fresh]  # the DecodedUplink's field values: a model only where needed
            for item in items:
                if item["decode_error"]:
                    self.metrics.decode_errors.labels(item["decoder"] or "").inc()
            for (ts, uplink), item in zip(fresh, items):
                fields = uplink.__dict__  # one model attribute read instead of several (see ledger/records.py)
                if waiting and fields["module"] in waiting:
                    for send_event in observe(conn, decoded_uplink(item), waiting):
                        firings.extend(self._send_finished(send_event))
                fired = match(item, self.state)
                if fired:
                    firings.extend(fired)
                record(fields["module"], fields["app_token"], fields["gateway"], fields["time"], ts)
            write_uplinks(conn, items, now, [ts for ts, _uplink in fresh])
            write_firings(conn, firings, now)
            advance_cursor(conn, health.token, alias, cursor_ts, now)
        if fresh:
            self.stored.advance(health.token, fresh[-1][0])
        if len(uplinks) > len(fresh):
            self.metrics.duplicates.labels(alias).inc(len(uplinks) - len(fresh))
        health.cursor_ts = max(health.cursor_ts or cursor_ts, cursor_ts)
        self.metrics.uplinks.labels(alias).inc(len(fresh))
        self.metrics.lag.labels(alias).set(max(0.0, self.clock.now().timestamp() - health.cursor_ts))
        self._drain_ack_metrics()
        self._log_firings(firings)
        return len(fresh)

    def _drain_ack_metrics(self) -> None:
        if self.acks.latencies:
            self.metrics.acks.inc(len(self.acks.latencies))
            for latency in self.acks.latencies:
                self.metrics.ack_latency.observe(latency)
            self.acks.latencies.clear()

    def _send_finished(self, event: SendEvent) -> list[Any]:
        self.metrics.send_outcomes.labels(event.outcome).inc()
        log.info("tracked send finished", extra={"send_id": event.send_id, "rule_id": event.rule_id, "outcome": event.outcome,
                                                 "acked": event.details.get("acked"), "expected": event.details.get("expected")})
        return self.matcher.match(event, self.state).firings

    def _log_firings(self, firings: list[Any]) -> None:
        for firing in firings:
            self.metrics.firings.labels(firing.rule_id).inc()
            log.info("rule fired", extra={"rule_id": firing.rule_id, "event_id": firing.event_id,
                                          **({"uplink_uuid": firing.event_id} if firing.event_kind == "uplink" else {}),
                                          "actions": [i.summary for i in firing.intents]})

    # -- other triggers ---------------------------------------------------------------------------

    def fire_schedule(self, rule_id: str, when: datetime) -> int:
        """Evaluate a schedule rule for its fire time ``when`` (idempotent per rule and time)."""
        event = ScheduleEvent(rule_id=rule_id, time=when)
        return self._commit_events([event])

    def check_silence(self) -> int:
        """Emit silence events for devices quiet longer than a silence rule's ``after``.

        "Now" is each AppToken's :meth:`safe_now` (the time up to which every uplink has surely
        been seen), never the wall clock, so an outage of Conductor or of the engine never makes
        a device look silent.
        """
        events = []
        for rule in self.matcher.index.by_kind("silence"):
            spec = rule.spec.trigger.silence
            assert spec is not None
            for health in self.tokens.values():
                safe_now = self.safe_now(health.alias)
                if safe_now is None or (rule.app_tokens is not None and health.token not in rule.app_tokens):
                    continue
                threshold = safe_now - spec.after.total_seconds()
                rows = self.ledger.conn.execute(
                    "SELECT module, last_seen, last_gateway FROM devices WHERE app_token = ? AND last_seen <= ?",
                    (health.token, threshold),
                ).fetchall()
                for module, last_seen, gateway in rows:
                    if rule.modules is not None and module not in rule.modules:
                        continue
                    marker = self.state.rule_state(rule.id, "silence", module)
                    if marker is not None and marker.get("last_seen") == last_seen:
                        continue
                    self.state.set_rule_state(rule.id, "silence", module, {"last_seen": last_seen})
                    seen = datetime.fromtimestamp(last_seen, tz=self.clock.now().tzinfo)
                    events.append(SilenceEvent(module=module, app_token=health.token, gateway=gateway, last_seen=seen,
                                               time=seen + spec.after))
        return self._commit_events(events) if events else 0

    def _commit_events(self, events: list[Any]) -> int:
        firings = []
        with cycle(self.ledger, self.state) as conn:
            for event in events:
                firings.extend(self.matcher.match(event, self.state).firings)
            fired = write_firings(conn, firings, self.clock.now().timestamp())
        self._log_firings(firings)
        return fired

    def check_sends(self) -> int:
        """Settle tracked sends whose round deadline is behind each AppToken's safe now: retry the
        silent devices within the budget, or finish the send (and trigger send rules)."""
        firings, now = [], self.clock.now().timestamp()
        with cycle(self.ledger, self.state) as conn:
            for health in self.tokens.values():
                safe_now = self.safe_now(health.alias)
                if safe_now is None:
                    continue
                for event in settle_due_sends(conn, health.token, safe_now, now):
                    firings.extend(self._send_finished(event))
            fired = write_firings(conn, firings, now)
        self._log_firings(firings)
        return fired

    # -- dispatch ---------------------------------------------------------------------------------

    async def dispatch(self) -> int:
        """Drain what is due in the outbox. Serialised: two callers never send the same intent."""
        async with self._dispatch_lock:
            handled = 0
            while True:  # in-doubt intents are reconciled at least every DISPATCH_ROUND intents
                await self.dispatcher.reconcile()
                sent = await self.dispatcher.drain(cap=DISPATCH_ROUND)
                handled += sent
                if sent < DISPATCH_ROUND or self.dispatcher.stopping:
                    break
            self._refresh_outbox_gauge()
            return handled

    def _count_intent(self, row: Any, outcome: str, _result: Any) -> None:
        self.metrics.intents.labels(row.action, outcome).inc()

    def _refresh_outbox_gauge(self) -> None:
        for status, count in self.ledger.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status"):
            self.metrics.outbox.labels(status).set(count)

    # -- health -----------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        now = self.clock.now().timestamp()
        tokens = {}
        for alias, health in self.tokens.items():
            interval = self.config.app_tokens[alias].poll_interval.total_seconds()
            lag = None if health.cursor_ts is None else round(now - health.cursor_ts, 3)
            healthy = health.consecutive_errors == 0 and lag is not None and lag <= max(3 * interval, 60)
            tokens[alias] = {
                "app_token": health.token, "healthy": healthy, "lag_s": lag,
                "last_success": health.last_success, "consecutive_errors": health.consecutive_errors,
                "last_error": health.last_error, "last_error_at": health.last_error_at,
            }
        outbox = dict(self.ledger.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
        return {
            "status": "ok" if all(t["healthy"] for t in tokens.values()) and self.rule_health.last_reload_ok else "degraded",
            "app_tokens": tokens,
            "rules": {"loaded": self.rule_health.loaded, "files": self.rule_health.files,
                      "last_reload_ok": self.rule_health.last_reload_ok, "last_reload_error": self.rule_health.last_reload_error,
                      "warnings": len(self.rule_health.problems)},
            "outbox": outbox,
        }

    def status_page(self) -> str:
        from .status_page import render_status_page

        return render_status_page(self.health(), self.ledger.conn, self.clock.now())

    async def aclose(self) -> None:
        await self.http.aclose()
