"""Scheduling details that are pure functions: staggered poll starts."""

from __future__ import annotations

from datetime import timedelta

from rules_engine.scheduler import stagger


def test_poll_jobs_start_spread_over_their_interval() -> None:
    ten = timedelta(seconds=10)
    assert stagger([ten] * 4) == [timedelta(0), timedelta(seconds=2.5), timedelta(seconds=5), timedelta(seconds=7.5)]


def test_each_job_is_offset_within_its_own_interval() -> None:
    offsets = stagger([timedelta(seconds=10), timedelta(seconds=60)])
    assert offsets == [timedelta(0), timedelta(seconds=30)]
    assert stagger([]) == []
