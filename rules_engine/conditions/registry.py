"""The operator registry: which operators a condition may use, and how each one runs.

One registry per engine instance; nothing here is global. :func:`standard_operators` (in
``rules_engine.conditions.standard``) builds a registry preloaded with the JsonLogic operators,
and plugins add theirs with the same methods the built-ins use:

* :meth:`OperatorRegistry.register_value` for a *value* operator: a plain function called with
  the evaluated arguments, e.g. ``registry.register_value("abs", lambda x: abs(to_number(x)),
  min_args=1, max_args=1)``.
* :meth:`OperatorRegistry.register_lazy` for a *lazy* (scoped, short-circuiting) operator: a
  compile function called once at load time with the raw arguments and a ``compile_arg(i)``
  callback that compiles argument ``i`` into an evaluator ``data -> value``; it returns the
  operator's own evaluator. ``if``, ``and``, ``some`` and ``var`` are lazy operators.
* :meth:`OperatorRegistry.add` for a ready-made :class:`Operator` definition, which is what a
  plugin's ``register_operators`` hook returns (``Operator("twice", 1, 1, func=...)``).

Every operator declares its arity, checked when a condition is loaded. An operator may also provide an
``emit`` hook, used by the code generator to inline a fast path (see
:mod:`rules_engine.conditions.codegen`); without one it is called through its function or
evaluator, which is always correct.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from rules_engine.errors import PluginError

__all__ = [
    "Evaluator",
    "CompileArg",
    "LazyCompile",
    "ArgumentCheck",
    "ArgumentError",
    "Operator",
    "OperatorRegistry",
]

_OPERATOR_NAME = re.compile(r"[^.\[\]'\"\\\s]+\Z")

#: A compiled (sub)condition: called with the data, returns the JsonLogic value.
Evaluator = Callable[[Any], Any]
#: ``compile_arg(i)`` compiles argument ``i`` of the operator being compiled.
CompileArg = Callable[[int], Evaluator]
#: ``compile(raw_args, compile_arg) -> evaluator`` of a lazy operator.
LazyCompile = Callable[[Sequence[Any], CompileArg], Evaluator]
#: ``check(raw_args)``: extra load-time validation; raises :class:`ArgumentError`.
ArgumentCheck = Callable[[Sequence[Any]], None]


class ArgumentError(ValueError):
    """An operator's arguments are invalid. Raised at load time by a ``check`` or ``compile``
    hook; the compiler turns it into a :class:`~rules_engine.errors.ConditionError` carrying the
    JSON path of the operator (or of argument ``index`` when given)."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.index = index


def _arity_text(low: int, high: int | None) -> str:
    def plural(n: int) -> str:
        return f"{n} argument" if n == 1 else f"{n} arguments"

    if high is None:
        return f"at least {plural(low)}"
    if low == high:
        return f"exactly {plural(low)}"
    if low == 0:
        return f"at most {plural(high)}"
    return f"{low} to {high} arguments"


@dataclass(frozen=True, slots=True)
class Operator:
    """How one operator is checked at load time and evaluated.

    Exactly one of ``func`` (value operator) and ``compile`` (lazy operator) is set.

    ``pure``: no side effects and a result that depends only on the arguments (and, for lazy
    operators, the data). A pure operator whose arguments are all constant is evaluated once at
    load time (constant folding), unless it ``reads_data``. ``log`` is not pure.

    ``reads_data``: a lazy operator whose evaluator reads the data itself rather than only
    through its compiled arguments (``var``, ``missing``); such a node is never constant.
    """

    name: str
    min_args: int = 0
    max_args: int | None = None
    func: Callable[..., Any] | None = None
    compile: LazyCompile | None = None
    pure: bool = True
    reads_data: bool = False
    check: ArgumentCheck | None = None
    emit: Callable[..., Any] | None = field(default=None, repr=False)

    @property
    def lazy(self) -> bool:
        """True for a lazy operator (raw arguments, compile callback)."""
        return self.compile is not None

    def arity_error(self, count: int) -> str | None:
        """The load-time message for ``count`` arguments, or ``None`` when acceptable."""
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            return f"expected {_arity_text(self.min_args, self.max_args)}, got {count}"
        return None


class OperatorRegistry:
    """The operators available to the conditions of one engine instance."""

    def __init__(self) -> None:
        self._operators: dict[str, Operator] = {}
        self._frozen = False
        # Compiled code objects of generated condition functions, keyed by their source text
        # (constants are not part of the source, so rules of the same shape share one entry).
        self.code_cache: dict[str, Any] = {}

    # -- registration ----------------------------------------------------------------------------

    def register_value(
        self,
        name: str,
        func: Callable[..., Any],
        *,
        min_args: int = 0,
        max_args: int | None = None,
        pure: bool = True,
        check: ArgumentCheck | None = None,
        emit: Callable[..., Any] | None = None,
    ) -> Operator:
        """Register a value operator: ``func(*evaluated_args)`` returns its result.

        ``pure=False`` for side effects or results that vary between calls (time, randomness):
        such an operator is never evaluated at load time.
        """
        if not callable(func):
            raise PluginError(f"operator {name!r}: func must be callable, got {type(func).__name__}")
        return self.add(Operator(name, min_args, max_args, func=func, pure=pure, check=check, emit=emit))

    def register_lazy(
        self,
        name: str,
        compile: LazyCompile,
        *,
        min_args: int = 0,
        max_args: int | None = None,
        pure: bool = True,
        reads_data: bool = False,
        check: ArgumentCheck | None = None,
        emit: Callable[..., Any] | None = None,
    ) -> Operator:
        """Register a lazy operator: ``compile(raw_args, compile_arg)`` runs once at load time and
        returns an evaluator ``data -> value``; ``compile_arg(i)`` compiles raw argument ``i``.

        Every argument must itself be a valid JsonLogic expression (it is validated at load time
        even if the operator never compiles it). Set ``reads_data=True`` when the evaluator reads
        the data directly, not only through compiled arguments.
        """
        if not callable(compile):
            raise PluginError(f"operator {name!r}: compile must be callable, got {type(compile).__name__}")
        operator = Operator(
            name, min_args, max_args, compile=compile, pure=pure, reads_data=reads_data, check=check, emit=emit
        )
        return self.add(operator)

    def freeze(self) -> OperatorRegistry:
        """Refuse further registrations (an engine freezes its registry once plugins are in)."""
        self._frozen = True
        return self

    @property
    def frozen(self) -> bool:
        """True once :meth:`freeze` was called."""
        return self._frozen

    def add(self, operator: Operator) -> Operator:
        """Register a ready-made :class:`Operator` definition (what a plugin's
        ``register_operators`` hook returns), e.g. ``Operator("twice", 1, 1, func=...)``."""
        name = operator.name
        if self._frozen:
            raise PluginError(
                f"cannot register operator {name!r}: the registry is frozen; register operators at start-up, "
                "before conditions are compiled"
            )
        if not isinstance(name, str) or not name:
            raise PluginError(f"an operator name must be a non-empty string, got {name!r}")
        if not _OPERATOR_NAME.match(name):
            raise PluginError(
                f"operator {name!r}: a name cannot contain '.', '[', ']', quotes, backslashes or white space "
                "(they would make the JSON paths of conditions ambiguous)"
            )
        if name in self._operators:
            raise PluginError(
                f"operator {name!r} is already registered; choose another name for the plugin operator"
            )
        if operator.min_args < 0 or (operator.max_args is not None and operator.max_args < operator.min_args):
            raise PluginError(
                f"operator {name!r}: invalid arity min_args={operator.min_args}, max_args={operator.max_args}"
            )
        if (operator.func is None) == (operator.compile is None):
            raise PluginError(
                f"operator {name!r}: give exactly one of func (value operator) or compile (lazy operator)"
            )
        self._operators[name] = operator
        return operator

    _add = add  # the name used before add() was public

    # -- lookup ----------------------------------------------------------------------------------

    def get(self, name: str) -> Operator | None:
        """The operator registered as ``name``, or ``None``."""
        return self._operators.get(name)

    def __getitem__(self, name: str) -> Operator:
        return self._operators[name]

    def __contains__(self, name: object) -> bool:
        return name in self._operators

    def __iter__(self) -> Iterator[str]:
        return iter(self._operators)

    def __len__(self) -> int:
        return len(self._operators)

    def names(self) -> list[str]:
        """All registered operator names, in registration order."""
        return list(self._operators)

    def copy(self) -> OperatorRegistry:
        """An independent, unfrozen registry with the same operators (registering into it leaves
        this one unchanged)."""
        clone = OperatorRegistry()
        clone._operators = dict(self._operators)
        return clone

    def without_emitters(self) -> OperatorRegistry:
        """A copy whose operators have no ``emit`` hooks: every operator then runs through its
        registered function or compile callback (used to test that path on its own)."""
        clone = OperatorRegistry()
        for name, operator in self._operators.items():
            clone._operators[name] = Operator(
                operator.name,
                operator.min_args,
                operator.max_args,
                func=operator.func,
                compile=operator.compile,
                pure=operator.pure,
                reads_data=operator.reads_data,
                check=operator.check,
            )
        return clone

    def __repr__(self) -> str:
        return f"<OperatorRegistry {len(self._operators)} operators>"
