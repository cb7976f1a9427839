"""Fixtures of the condition tests: the json-logic-js oracle, one node process per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .oracle_client import Oracle, ensure_installed, node_executable


@pytest.fixture(scope="session")
def oracle() -> Iterator[Oracle]:
    """json-logic-js in a long-lived node process (installed with npm on first use)."""
    if node_executable() is None:
        pytest.skip("node is missing: the differential test needs node to run json-logic-js")
    ensure_installed()
    process = Oracle()
    yield process
    process.close()
