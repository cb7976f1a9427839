"""Wires the engine to APScheduler: one interval job per AppToken (``max_instances=1``,
``coalesce=True``), and short ticks for dispatch, schedule rules, silence and retention.

Schedule rules are driven from the ledger (``schedule_runs``), not from in-memory timers: each
tick computes the fire times due since the last recorded one, so a restart neither loses nor
repeats a run (missed runs while the daemon was down are coalesced into one).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .engine import Engine
from .ledger.retention import prune

__all__ = ["EngineScheduler", "due_fire_times", "stagger"]

log = logging.getLogger("rules_engine.scheduler")


def due_fire_times(trigger: Any, last: datetime | None, now: datetime, start: datetime) -> list[datetime]:
    """Fire times of ``trigger`` after ``last`` (or ``start``) up to ``now``; several missed
    ones collapse to the latest."""
    previous = last
    due: list[datetime] = []
    probe = trigger.get_next_fire_time(previous, last or start)
    while probe is not None and probe <= now and len(due) < 10_000:
        if last is None or probe > last:
            due.append(probe)
        previous = probe
        probe = trigger.get_next_fire_time(previous, probe + timedelta(microseconds=1))
    return due[-1:]


def stagger(intervals: list[timedelta]) -> list[timedelta]:
    """When each of N poll jobs first runs: job i after i/N of its own interval, so N AppTokens
    polled every 10 s are polled one every 10/N s instead of all at once."""
    count = len(intervals)
    return [interval * index / count for index, interval in enumerate(intervals)]


def _trigger_of(spec: Any, start: datetime) -> Any:
    if spec.cron is not None:
        return CronTrigger.from_crontab(spec.cron, timezone="UTC")
    return IntervalTrigger(seconds=spec.every.total_seconds(), start_date=start, timezone="UTC")


class EngineScheduler:
    def __init__(self, engine: Engine, *, tick: float = 1.0) -> None:
        self.engine = engine
        self.tick = tick
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.started_at = engine.clock.now()
        self._running: set[asyncio.Task[Any]] = set()
        self._dispatch_wanted = asyncio.Event()
        self.stopping = False

    def _guarded(self, name: str, job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if self.stopping:
                return
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await job()
            except Exception as error:  # noqa: BLE001 - a failed job is logged; the next run tries again
                log.warning("job failed", extra={"job": name, "error": f"{type(error).__name__}: {error}"})
            finally:
                self._running.discard(task)

        return run

    def start(self) -> None:
        now = self.engine.clock.now()
        tokens = self.engine.config.app_tokens
        offsets = stagger([token.poll_interval for token in tokens.values()])
        for (alias, token), offset in zip(tokens.items(), offsets):
            self.scheduler.add_job(
                self._guarded(f"poll {alias}", lambda alias=alias: self._poll(alias)), "interval",
                seconds=token.poll_interval.total_seconds(), next_run_time=now + offset, id=f"poll:{alias}",
                max_instances=1, coalesce=True, misfire_grace_time=None,
            )
        self.scheduler.add_job(self._guarded("schedules", self._schedules), "interval", seconds=self.tick,
                               id="schedules", max_instances=1, coalesce=True, next_run_time=now)
        self.scheduler.add_job(self._guarded("tracked sends", self._sends), "interval", seconds=self.tick,
                               id="sends", max_instances=1, coalesce=True, next_run_time=now)
        self.scheduler.add_job(self._guarded("silence", self._silence), "interval",
                               seconds=self.engine.config.silence_check_interval.total_seconds(), id="silence",
                               max_instances=1, coalesce=True)
        self.scheduler.add_job(self._guarded("retention", self._retention), "interval", hours=1, id="retention",
                               max_instances=1, coalesce=True, next_run_time=now + timedelta(minutes=1))
        self.scheduler.start()
        self._dispatch_task = asyncio.create_task(self._dispatch_loop(), name="dispatch")

    def wake_dispatcher(self) -> None:
        self._dispatch_wanted.set()
        self.engine.dispatcher.notify()  # a drain already running takes the new intents too

    async def _dispatch_loop(self) -> None:
        """Drain the outbox whenever something was written, and at least every tick (retries)."""
        while not self.stopping:
            try:
                await asyncio.wait_for(self._dispatch_wanted.wait(), timeout=self.tick)
            except asyncio.TimeoutError:
                pass
            self._dispatch_wanted.clear()
            if self.stopping:
                break
            await self._guarded("dispatch", self.engine.dispatch)()

    async def _poll(self, alias: str) -> None:
        if await self.engine.poll(alias):
            self.wake_dispatcher()

    async def _sends(self) -> None:
        if self.engine.check_sends():
            self.wake_dispatcher()
        elif self.engine.ledger.conn.execute("SELECT 1 FROM outbox WHERE status = 'pending' LIMIT 1").fetchone():
            self.wake_dispatcher()

    async def _silence(self) -> None:
        if self.engine.check_silence():
            self.wake_dispatcher()

    async def _retention(self) -> None:
        pruned = prune(self.engine.ledger, self.engine.config.ledger.retention, self.engine.clock.now().timestamp())
        if any(vars(pruned).values()):
            log.info("retention pruned the ledger", extra=vars(pruned))

    async def _schedules(self) -> None:
        now = self.engine.clock.now()
        conn = self.engine.ledger.conn
        fired = 0
        for rule in self.engine.matcher.index.by_kind("schedule"):
            spec = rule.spec.trigger.schedule
            row = conn.execute("SELECT last_fire_ts FROM schedule_runs WHERE rule_id = ?", (rule.id,)).fetchone()
            last = datetime.fromtimestamp(row[0], tz=now.tzinfo) if row else None
            if last is None:
                # first sight of this rule: start counting from now, do not fire for the past
                with self.engine.ledger.transaction() as tx:
                    tx.execute("INSERT OR REPLACE INTO schedule_runs (rule_id, last_fire_ts) VALUES (?, ?)", (rule.id, now.timestamp()))
                continue
            for when in due_fire_times(_trigger_of(spec, last), last, now, last):
                fired += self.engine.fire_schedule(rule.id, when)
                with self.engine.ledger.transaction() as tx:
                    tx.execute("UPDATE schedule_runs SET last_fire_ts = ? WHERE rule_id = ?", (when.timestamp(), rule.id))
        if fired:
            self.wake_dispatcher()

    async def stop(self) -> None:
        """Stop scheduling and wait for the jobs that are running (the current cycle) to finish."""
        self.stopping = True
        self.engine.dispatcher.stopping = True
        if self.scheduler.running:  # not when the daemon stops before it started (a start-up error)
            self.scheduler.shutdown(wait=False)
        self._dispatch_wanted.set()
        if getattr(self, "_dispatch_task", None) is not None:
            await asyncio.gather(self._dispatch_task, return_exceptions=True)
        if self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
