"""The dispatcher keeps a pool of sends in flight and tops it up as each one finishes: an intent
written while a slow send is running goes out without waiting for it."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Iterator

import pytest
from pydantic import BaseModel

from rules_engine.actions import ActionType, ExecutionContext
from rules_engine.clock import ManualClock
from rules_engine.ledger.records import insert_firing
from rules_engine.ledger.store import Ledger
from rules_engine.models import Evaluation, Firing, Intent
from rules_engine.pipeline.dispatch import Dispatcher, DispatchPolicy


class _NoOptions(BaseModel):
    pass


class Recorder:
    """An action whose sends finish when the test says so (``release``), in any order."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def release(self, name: str) -> None:
        self.gates.setdefault(name, asyncio.Event()).set()

    async def execute(self, params: dict[str, Any], context: ExecutionContext) -> dict[str, Any]:
        name = params["name"]
        self.started.append(name)
        await self.gates.setdefault(name, asyncio.Event()).wait()
        self.finished.append(name)
        return {}

    def action(self) -> ActionType:
        return ActionType("record", _NoOptions, build=lambda *_: None, execute=self.execute)  # type: ignore[arg-type,return-value]


def _write(ledger: Ledger, clock: ManualClock, name: str) -> None:
    now = clock.now()
    evaluation = Evaluation(rule_id="r", event_id=name, condition=True, fired=True, reason="test")
    intent = Intent(key=f"r|{name}|0", rule_id="r", event_id=name, index=0, action="record", params={"name": name},
                    summary=name)
    with ledger.transaction() as conn:
        insert_firing(conn, Firing(rule_id="r", event_id=name, event_kind="uplink", time=now, evaluation=evaluation,
                                   intents=(intent,)), now.timestamp())


def _dispatcher(ledger: Ledger, clock: ManualClock, recorder: Recorder, concurrency: int) -> Dispatcher:
    context = ExecutionContext(conductor=None, http=None, logger=logging.getLogger("test"), now=clock.now)
    return Dispatcher(ledger, {"record": recorder.action()}, context, None, clock,  # type: ignore[arg-type]
                      DispatchPolicy(concurrency=concurrency))


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open_writer(tmp_path / "ledger.db")
    yield opened
    opened.close()


async def _until(condition: Any) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


async def test_an_intent_written_during_a_slow_send_does_not_wait_for_it(ledger: Ledger) -> None:
    clock, recorder = ManualClock(), Recorder()
    dispatcher = _dispatcher(ledger, clock, recorder, concurrency=2)
    _write(ledger, clock, "slow")
    drain = asyncio.create_task(dispatcher.drain())
    await _until(lambda: recorder.started == ["slow"])
    _write(ledger, clock, "fast")
    dispatcher.notify()  # what the engine does after each commit that wrote intents
    recorder.release("fast")
    await _until(lambda: recorder.finished == ["fast"])  # sent while "slow" is still running
    assert not drain.done()
    recorder.release("slow")
    assert await drain == 2
    statuses = dict(ledger.conn.execute("SELECT event_id, status FROM outbox").fetchall())
    assert statuses == {"slow": "done", "fast": "done"}


async def test_no_more_than_concurrency_sends_at_once_and_each_intent_once(ledger: Ledger) -> None:
    clock, recorder = ManualClock(), Recorder()
    dispatcher = _dispatcher(ledger, clock, recorder, concurrency=3)
    names = [f"i{n}" for n in range(7)]
    for name in names:
        _write(ledger, clock, name)
    drain = asyncio.create_task(dispatcher.drain())
    await _until(lambda: len(recorder.started) == 3)
    for _ in range(20):
        await asyncio.sleep(0)
    assert recorder.started == names[:3]  # the pool is full; the rest wait
    for name in names:
        recorder.release(name)
    assert await drain == 7
    assert sorted(recorder.started) == sorted(names) and len(recorder.started) == 7


async def test_a_cap_stops_after_that_many(ledger: Ledger) -> None:
    clock, recorder = ManualClock(), Recorder()
    dispatcher = _dispatcher(ledger, clock, recorder, concurrency=4)
    for n in range(5):
        _write(ledger, clock, f"i{n}")
        recorder.release(f"i{n}")
    assert await dispatcher.drain(cap=3) == 3
    assert await dispatcher.drain() == 2


async def test_cancelled_drain_leaves_started_sends_in_flight(ledger: Ledger) -> None:
    clock, recorder = ManualClock(), Recorder()
    dispatcher = _dispatcher(ledger, clock, recorder, concurrency=2)
    _write(ledger, clock, "stuck")
    drain = asyncio.create_task(dispatcher.drain())
    await _until(lambda: recorder.started == ["stuck"])
    drain.cancel()
    try:
        await drain
    except asyncio.CancelledError:
        pass
    (status,), = ledger.conn.execute("SELECT status FROM outbox").fetchall()
    assert status == "in_flight"  # reconciled at the next start, never silently dropped
