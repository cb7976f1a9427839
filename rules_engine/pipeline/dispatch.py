"""Dispatch stage: drain the outbox. Send each intent once; retry transient failures with
backoff; record permanent failures with their reason; reconcile intents that were in flight when
the process died (or whose answer was lost) against Conductor's record before any resend.

Each intent goes ``pending -> in_flight`` (committed *before* sending) ``-> done | pending
(retry) | failed``. An ``in_flight`` intent is in doubt: for a downlink, Conductor's list of
issued commands says whether it went out; other actions are sent again (at least once, with the
intent key as ``Idempotency-Key`` for webhooks).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

import httpx

from ..actions import ActionFailed, ActionType, ExecutionContext
from ..clock import Clock
from ..conductor import ConductorClient, SubjectType
from ..errors import ConductorError, HTTPStatusError, InvalidRequestError, RateLimitedError, ServerError
from ..ledger.records import (
    DONE,
    FAILED,
    IN_FLIGHT,
    PENDING,
    OutboxRow,
    claimed_issuance_ids,
    due_intents,
    intents_with_status,
    record_send,
    set_intent_status,
)
from ..acks.store import mark_issued
from ..ledger.store import Ledger

__all__ = ["Dispatcher", "DispatchPolicy", "DOWNLINK_ACTIONS"]

log = logging.getLogger("rules_engine.dispatch")

DOWNLINK_ACTIONS = frozenset({"multicast", "unicast"})


@dataclass(frozen=True)
class DispatchPolicy:
    max_attempts: int = 8
    concurrency: int = 8
    base_delay: float = 2.0
    max_delay: float = 300.0
    execute_timeout: float = 60.0
    reconcile_after: float = 30.0
    reconcile_margin: timedelta = timedelta(minutes=2)

    def delay(self, attempts: int) -> float:
        return min(self.max_delay, self.base_delay * (2 ** max(0, attempts - 1)))


def _is_permanent(error: BaseException) -> bool:
    if isinstance(error, ActionFailed):
        return error.permanent
    if isinstance(error, InvalidRequestError):
        return True
    if isinstance(error, (RateLimitedError, ServerError)):
        return False
    if isinstance(error, HTTPStatusError):
        return True  # 4xx from Conductor: the request itself is wrong
    if isinstance(error, httpx.HTTPStatusError):
        code = error.response.status_code
        return 400 <= code < 500 and code not in (408, 425, 429)
    return False


class Dispatcher:
    def __init__(
        self,
        ledger: Ledger,
        actions: dict[str, ActionType],
        context: ExecutionContext,
        conductor: ConductorClient,
        clock: Clock,
        policy: DispatchPolicy | None = None,
        on_result: Callable[[OutboxRow, str, dict[str, Any] | None], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.actions = actions
        self.context = context
        self.conductor = conductor
        self.clock = clock
        self.policy = policy or DispatchPolicy()
        self.on_result = on_result or (lambda *_: None)
        #: Set when the daemon stops: sends not yet started stay pending in the outbox.
        self.stopping = False
        self._written = asyncio.Event()

    def notify(self) -> None:
        """New intents were committed: a running :meth:`drain` with a free slot picks them up now."""
        self._written.set()

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _set(self, key: str, status: str, **kwargs: Any) -> None:
        with self.ledger.transaction() as conn:
            set_intent_status(conn, key, status, self._now(), **kwargs)

    async def drain(self, cap: int | None = None) -> int:
        """Send everything due, keeping up to ``policy.concurrency`` sends in flight and starting
        the next one as soon as one finishes: an intent committed meanwhile waits for a free slot,
        never for a whole batch, and a slow webhook never holds up a downlink. Returns how many
        intents were handled, when nothing is due and nothing is in flight (or after ``cap``).
        Once ``stopping`` is set, nothing new starts; sends already started finish."""
        running: dict[asyncio.Future[Any], str] = {}
        handled = 0
        written: asyncio.Future[Any] | None = None
        try:
            while True:
                room = self.policy.concurrency - len(running)
                if cap is not None:
                    room = min(room, cap - handled - len(running))
                if room > 0 and not self.stopping:
                    # A task not yet started has not marked its intent in flight: skip it here.
                    starting = set(running.values())
                    for row in due_intents(self.ledger.conn, self._now(), room + len(starting)):
                        if row.key not in starting and room > 0:
                            running[asyncio.create_task(self._send(row))] = row.key
                            room -= 1
                if not running:
                    return handled
                self._written.clear()
                waiting = set(running)
                if room > 0 and not self.stopping:  # a slot is free: an intent written meanwhile may take it
                    written = asyncio.ensure_future(self._written.wait())
                    waiting.add(written)
                finished, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if written is not None:
                    written.cancel()
                    written = None
                for task in finished:
                    if task in running:
                        del running[task]
                        handled += 1
                        task.result()
        except asyncio.CancelledError:
            if written is not None:
                written.cancel()
            for task in running:
                task.cancel()  # each stays in flight and is reconciled at the next start
            await asyncio.gather(*running, return_exceptions=True)
            raise

    async def run_once(self, limit: int = 100) -> int:
        """Send at most ``limit`` due intents (see :meth:`drain`); returns how many were handled."""
        return await self.drain(cap=limit)

    async def _send(self, row: OutboxRow) -> None:
        action = self.actions.get(row.action)
        if action is None or action.execute is None:
            self._set(row.key, FAILED, error=f"no action '{row.action}' is loaded (was its plugin removed?)")
            self.on_result(row, FAILED, None)
            return
        self._set(row.key, IN_FLIGHT, count_attempt=True)
        params = dict(row.params)
        if row.action == "webhook":
            params["headers"] = {**params.get("headers", {}), "Idempotency-Key": row.key}
        try:
            result = await asyncio.wait_for(action.execute(params, self.context), timeout=self.policy.execute_timeout)
        except asyncio.CancelledError:
            raise  # stays in flight: reconciled at the next start
        except BaseException as error:  # noqa: BLE001 - every failure is recorded, none stops the daemon
            await self._failed(row, error)
            return
        with self.ledger.transaction() as conn:
            set_intent_status(conn, row.key, DONE, self._now(), result=result)
            if row.action in DOWNLINK_ACTIONS:
                record_send(conn, row, result.get("issuance_id"), self._now())
                mark_issued(conn, row.key, self._now())
        log.info("action sent", extra={"rule_id": row.rule_id, "intent": row.key, "send_id": result.get("issuance_id")})
        self.on_result(row, DONE, result)

    async def _failed(self, row: OutboxRow, error: BaseException) -> None:
        reason = f"{type(error).__name__}: {error}"
        if isinstance(error, ConductorError) and error.in_doubt:
            log.warning("downlink in doubt; will reconcile", extra={"rule_id": row.rule_id, "intent": row.key, "error": reason})
            self.on_result(row, IN_FLIGHT, None)
            return  # stays in flight; reconcile() decides
        attempts = row.attempts + 1
        if _is_permanent(error) or attempts >= self.policy.max_attempts:
            final = reason if _is_permanent(error) else f"gave up after {attempts} attempts; last error: {reason}"
            self._set(row.key, FAILED, error=final)
            log.error("action failed", extra={"rule_id": row.rule_id, "intent": row.key, "error": final})
            self.on_result(row, FAILED, None)
            return
        retry_at = self._now() + self.policy.delay(attempts)
        self._set(row.key, PENDING, error=reason, next_attempt_at=retry_at)
        log.warning("action failed, will retry", extra={"rule_id": row.rule_id, "intent": row.key, "error": reason})
        self.on_result(row, PENDING, None)

    async def reconcile(self, *, min_age: float | None = None) -> int:
        """Settle in-flight intents at least ``min_age`` seconds old (default: all of them)."""
        settled = 0
        # Younger ones wait: Conductor's command history may not show a command issued in the last
        # moments yet (its clock, our stop slack), and "not found" would mean a duplicate send.
        cutoff = self._now() - (self.policy.reconcile_after if min_age is None else min_age)
        for row in intents_with_status(self.ledger.conn, IN_FLIGHT):
            updated = self.ledger.conn.execute("SELECT updated_at FROM outbox WHERE key = ?", (row.key,)).fetchone()[0]
            if updated > cutoff:
                continue
            if row.action in DOWNLINK_ACTIONS:
                try:
                    issuance_id = await self._find_issued(row, since=updated)
                except ConductorError as error:
                    log.warning("cannot reconcile yet", extra={"intent": row.key, "error": str(error)})
                    continue
                if issuance_id is not None:
                    with self.ledger.transaction() as conn:
                        set_intent_status(conn, row.key, DONE, self._now(), result={"issuance_id": issuance_id, "reconciled": True})
                        record_send(conn, row, issuance_id, self._now(), reconciled=True)
                        mark_issued(conn, row.key, updated)
                    log.info("in-doubt downlink was issued; not resending", extra={"intent": row.key, "send_id": issuance_id})
                    self.on_result(row, DONE, {"issuance_id": issuance_id})
                    settled += 1
                    continue
            self._set(row.key, PENDING, next_attempt_at=self._now())
            settled += 1
        return settled

    async def _find_issued(self, row: OutboxRow, since: float) -> str | None:
        params = row.params
        start = self.clock.now() - timedelta(seconds=max(0.0, self._now() - since)) - self.policy.reconcile_margin
        if row.action == "multicast":
            commands = await self.conductor.past_commands(SubjectType.APP_TOKEN, params["app_token"], start)
        else:
            commands = await self.conductor.past_commands(SubjectType.NODE, params["module"], start)
        claimed = claimed_issuance_ids(self.ledger.conn)
        for command in sorted(commands, key=lambda c: (c.issuance_time is None, c.issuance_time)):
            if command.issuance_id in claimed:
                continue
            if (command.payload_hex or "").upper() == params["payload_hex"].upper() and command.port == params["port"]:
                return command.issuance_id
        return None
