"""The schema of rule test files (``*.test.yaml`` beside the rules)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..durations import Duration

__all__ = ["TestFile", "TestCase", "TestEvent", "ExpectedFiring", "UplinkInput"]

DEFAULT_START = datetime(2026, 1, 1, tzinfo=timezone.utc)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class UplinkInput(_Strict):
    """An uplink as a test writes it. ``at`` is the offset from the test's start."""

    module: str
    at: Duration = timedelta(0)
    app_token: str | None = None
    port: int | None = 0
    payload: str = ""
    gateway: str | None = "$101$0-0-0-db9504a40"
    uuid: str | None = None

    @field_validator("payload")
    @classmethod
    def _hex(cls, value: str) -> str:
        text = value.replace(" ", "")
        try:
            bytes.fromhex(text)
        except ValueError:
            raise ValueError(f"payload must be hex, e.g. '0117A40C1F', got {value!r}") from None
        return text.upper()


class ScheduleInput(_Strict):
    rule: str
    at: Duration = timedelta(0)


class SilenceInput(_Strict):
    module: str
    at: Duration = timedelta(0)
    app_token: str | None = None


class SendInput(_Strict):
    rule: str
    outcome: Literal["complete", "partial", "expired"]
    at: Duration = timedelta(0)
    send_id: str = "send-1"
    details: dict[str, Any] = Field(default_factory=dict)


class TestEvent(_Strict):
    uplink: UplinkInput | None = None
    schedule: ScheduleInput | None = None
    silence: SilenceInput | None = None
    send: SendInput | None = None

    @model_validator(mode="after")
    def _one(self) -> TestEvent:
        given = [k for k in ("uplink", "schedule", "silence", "send") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("each event is exactly one of 'uplink', 'schedule', 'silence' or 'send'")
        return self


class ExpectedFiring(_Strict):
    """A firing the test expects: the rule, the event (index into ``events``) and, optionally,
    the actions with a subset of their planned parameters (e.g. ``payload_hex``)."""

    rule: str
    event: int | None = None
    actions: list[dict[str, dict[str, Any]]] | None = None


class PriorState(_Strict):
    devices: dict[str, dict[str, Any]] = Field(default_factory=dict)
    globals: dict[str, Any] = Field(default_factory=dict, alias="global")


class TestCase(_Strict):
    name: str
    start: datetime = DEFAULT_START
    rules: list[str] | None = None
    state: PriorState = Field(default_factory=PriorState)
    events: list[TestEvent] = Field(min_length=1)
    expect: list[ExpectedFiring]


class TestFile(_Strict):
    config: str | dict[str, Any] | None = None
    rules: list[str] | None = None
    tests: list[TestCase] = Field(min_length=1)
