"""The pipeline stages: poll, dedupe, decode, match, outbox, dispatch, acks. Composed only by
:mod:`rules_engine.engine`; each stage is one module."""
