"""Async client for the Link Labs Conductor REST API."""

from __future__ import annotations
