"""Event-driven automation rules engine for Link Labs Conductor."""

from __future__ import annotations

__version__ = "0.1.0"
