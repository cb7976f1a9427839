"""Reliability tests (issue 5): the real daemon as a subprocess against the real simulator over
HTTP, with real SQLite ledgers, checked against the simulator's ground truth."""
