"""The standard JsonLogic operators, registered as a plugin."""

from __future__ import annotations

from ..conditions import Operator, standard_operators
from ..hookspecs import hookimpl


@hookimpl
def register_operators() -> list[Operator]:
    standard = standard_operators()
    return [standard[name] for name in standard]
