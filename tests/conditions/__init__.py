"""Tests of rules_engine.conditions (JsonLogic compiler, registry, lint)."""
