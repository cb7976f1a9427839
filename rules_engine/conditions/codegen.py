"""The code generator: one Python function per condition, compiled once at load time.

A node tree becomes Python source in which every operator is resolved now, not per evaluation.
``{"and": [{"==": [{"var": "uplink.port"}, 2]}, {">": [{"var": "decoded.temperature"}, 30]}]}``
becomes (constants are globals ``_k0``, ``_k1``...)::

    def _condition(data):
        try:
            _o1 = data.get(_k0) or _k1                          # uplink, or {} if absent
            _o2 = data.get(_k3) or _k1                          # decoded
            return (((_t3 := _o1.get(_k2)) == _k4 or type(_t3) in _k5 and _k6(_t3, _k4))
                    and (False if (_t4 := _o2.get(_k7)) is None else _t4 > _k8))
        except (TypeError, AttributeError):
            return _k9(data)                                    # the closure backend

The fast paths are *optimistic*, like hand-written code: they assume objects where a path goes
and numbers where a number is compared, and handle a missing value (null) inline, with the result
JavaScript gives for it computed at load time. Any other type makes Python raise ``TypeError`` or
``AttributeError`` (``"31.5" > 30``, ``[1].get``), and the input is then evaluated again by the
closure backend, which implements the full JavaScript coercions. Where a Python operator would
silently disagree with JavaScript instead of raising (``==`` between a number and a string,
ordering of two strings or two arrays, ``in`` with booleans against numbers, string indexing) the
emitters keep explicit type checks. Because an input may be evaluated twice, only conditions
without side effects (no ``log``, no impure plugin operator) are generated; the others use the
closure backend directly.

Operators supply these fast paths through their ``emit`` hook (see the ``std_*`` modules). An
operator without one (a plugin's) is called through its registered function, or its compiled
closure for a lazy operator.

Constants are never written into the source (no rule text ever reaches ``compile``); they are
bound as globals, so conditions of the same shape share one compiled code object
(``OperatorRegistry.code_cache``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from rules_engine.conditions.closures import ClosureCompiler
from rules_engine.conditions.jsvalues import copy_arrays, truthy
from rules_engine.conditions.nodes import ArrayNode, Literal, Node, OpNode
from rules_engine.conditions.registry import Evaluator, OperatorRegistry
from rules_engine.conditions.varpath import MISSING, step, step_or_missing

__all__ = [
    "Kind",
    "Code",
    "CodeGen",
    "NUMBER_TYPES",
    "PRIMITIVE_TYPES",
    "generate",
    "compile_to_function",
    "array_index",
]

_log = logging.getLogger("rules_engine.conditions")

#: ``type(x) in NUMBER_TYPES``: x is a JS number (``bool`` excluded).
NUMBER_TYPES = frozenset({int, float})
#: Types whose Python ``==`` is JavaScript ``==``/``===`` when both sides have the same type.
PRIMITIVE_TYPES = frozenset({str, int, float, bool, type(None)})
#: What an absent intermediate object reads as: every property of it is absent. Never mutated.
EMPTY: dict[str, Any] = {}
_CACHE_LIMIT = 2048


class Kind:
    """What the code generator knows statically about the type of a value (bit flags)."""

    BOOL = 1
    NUM = 2
    STR = 4
    LIST = 8
    NULL = 16
    OBJ = 32
    ANY = 63


#: Types whose Python truthiness equals JsonLogic truthiness ({} and NaN are the exceptions).
_TRUTH_SAFE = Kind.BOOL | Kind.STR | Kind.LIST | Kind.NULL


class Code(NamedTuple):
    """A Python expression computing a node's value.

    ``truth``: an alternative expression whose Python truthiness is the JsonLogic truthiness of
    the value (cheaper when the value itself is not needed). ``simple``: the expression is a name
    or a literal, so it may be repeated without evaluating anything twice.
    """

    expr: str
    kind: int = Kind.ANY
    truth: str | None = None
    simple: bool = False


def array_index(key: str) -> int | None:
    """The array index a path segment denotes (``"0"``, ``"12"``), else ``None``."""
    if key.isdigit() and key.isascii() and (key == "0" or key[0] != "0"):
        return int(key)
    return None


def _special(key: str) -> bool:
    """A path segment that is not a plain object key on arrays and strings."""
    return key == "length" or array_index(key) is not None


class _LazyFallback:
    """The closure evaluator of a whole condition, built on first use."""

    __slots__ = ("_node", "_compiler", "_evaluator")

    def __init__(self, node: Node, compiler: ClosureCompiler) -> None:
        self._node = node
        self._compiler = compiler
        self._evaluator: Evaluator | None = None

    def __call__(self, data: Any) -> Any:
        evaluator = self._evaluator
        if evaluator is None:
            evaluator = self._evaluator = self._compiler.compile(self._node)
        return evaluator(data)


class CodeGen:
    """Builds the source of one condition. Emitters call back into it for their arguments."""

    def __init__(self, closures: ClosureCompiler, namespace: dict[str, Any] | None = None) -> None:
        self.closures = closures
        self.namespace: dict[str, Any] = {} if namespace is None else namespace
        self._refs: dict[Any, str] = {}
        self._count = 0
        self._functions: list[str] = []
        self._roots: dict[str, tuple[str, str]] = {}  # first key -> (local, "data.get(key) or {}")
        self._paths: dict[tuple[Any, ...], tuple[str, str]] = {}  # main-scope lookups: (token, expr)
        self.scope = "data"
        self._in_main = True
        self._scope_is_object = True

    # -- names -----------------------------------------------------------------------------------

    def temp(self) -> str:
        """A fresh local variable name."""
        self._count += 1
        return f"_t{self._count}"

    def ref(self, obj: Any) -> str:
        """A global name bound to ``obj`` (constants are deduplicated by type and value)."""
        cls = type(obj)
        if cls is str or cls is int or cls is bool:
            key: Any = (cls, obj)
        elif cls is float:
            key = (cls, repr(obj))
        else:
            key = id(obj)
        name = self._refs.get(key)
        if name is None:
            name = self._refs[key] = f"_k{len(self._refs)}"
            self.namespace[name] = obj
        return name

    # -- expressions -----------------------------------------------------------------------------

    def literal(self, value: Any) -> Code:
        """The code of a constant value."""
        if value is None:
            return Code("None", Kind.NULL, simple=True)
        cls = type(value)
        if cls is bool:
            return Code(repr(value), Kind.BOOL, simple=True)
        if cls is int or cls is float:
            return Code(self.ref(value), Kind.NUM, simple=True)
        if cls is str:
            return Code(self.ref(value), Kind.STR, simple=True)
        if cls is list:
            if any(type(item) is list for item in value):
                return Code(f"{self.ref(copy_arrays)}({self.ref(value)})", Kind.LIST)
            return Code(f"{self.ref(value)}.copy()", Kind.LIST)
        if cls is dict:
            return Code(self.ref(value), Kind.OBJ, simple=True)
        return Code(self.ref(value), Kind.ANY, simple=True)

    def emit(self, node: Node) -> Code:
        """The code of any node."""
        if isinstance(node, Literal):
            return self.literal(node.value)
        if isinstance(node, ArrayNode):
            items = ", ".join(self.emit(item).expr for item in node.items)
            return Code(f"[{items}]", Kind.LIST)
        assert isinstance(node, OpNode)
        emit = node.op.emit
        if emit is not None:
            code = emit(self, node)
            if code is not None:
                return code  # type: ignore[no-any-return]
        return self.generic(node)

    def generic(self, node: OpNode) -> Code:
        """The operator called as registered: its function, or its compiled closure."""
        if node.op.func is None:
            return Code(f"{self.ref(self.closures.compile(node))}({self.scope})")
        args = ", ".join(self.emit(arg).expr for arg in node.args)
        return Code(f"{self.ref(node.op.func)}({args})")

    def truth(self, code: Code) -> str:
        """An expression whose Python truthiness is the JsonLogic truthiness of ``code``."""
        if code.truth is not None:
            return code.truth
        if not code.kind & ~_TRUTH_SAFE:
            return code.expr
        return f"{self.ref(truthy)}({code.expr})"

    def boolean(self, code: Code) -> str:
        """An expression giving ``True``/``False``: the JsonLogic truthiness of ``code``."""
        if code.kind == Kind.BOOL:
            return code.expr
        if code.truth is None and code.kind & ~_TRUTH_SAFE:
            return f"{self.ref(truthy)}({code.expr})"
        return f"(not not {self.truth(code)})"

    def bind(self, code: Code) -> tuple[str, str]:
        """``(first, again)``: use ``first`` where the value is first needed and ``again`` after
        it (a walrus temporary unless the expression is simple)."""
        if code.simple:
            return code.expr, code.expr
        name = self.temp()
        return f"({name} := {code.expr})", name

    # -- data access -----------------------------------------------------------------------------

    def scope_code(self) -> Code:
        """The current data (``{"var": ""}``)."""
        return Code(self.scope, Kind.ANY, simple=True)

    def _root_object(self, key: str) -> str:
        """A local holding ``data.get(key) or {}``, assigned once at the top of the function."""
        entry = self._roots.get(key)
        if entry is None:
            entry = self._roots[key] = (self.temp(), f"data.get({self.ref(key)}) or {self.ref(EMPTY)}")
        return entry[0]

    def lookup(self, keys: tuple[str, ...] | None, *, missing: bool = False) -> str:
        """The value at the constant path ``keys`` in the current data: ``None`` when not found,
        or the MISSING marker when ``missing`` is set and the path is absent.

        Optimistic: an intermediate value is read as an object (``x or {}``: null, absent and the
        other falsy values have no properties); a truthy non-object raises AttributeError, which
        sends the evaluation to the closure backend. Array indices and ``length`` go through
        :func:`~rules_engine.conditions.varpath.step`, which knows arrays and strings.
        """
        if keys is None:
            return self.scope
        raw: str | None = None  # the value at the path so far
        obj: str | None = None  # or: an expression for it as an object ({} when absent/falsy)
        start = 0
        if self._in_main:
            # The top-level data is taken to be an object; hoist "data.get(first) or {}" when the
            # next step reads a property of it.
            if len(keys) > 1 and not _special(keys[1]):
                obj, start = self._root_object(keys[0]), 1
            else:
                obj = self.scope
        elif self._scope_is_object:
            obj = self.scope
        else:
            raw = self.scope
        last = len(keys) - 1
        for position in range(start, len(keys)):
            key = keys[position]
            final_missing = missing and position == last
            if _special(key):
                helper = self.ref(step_or_missing if final_missing else step)
                raw = f"{helper}({raw if raw is not None else obj}, {self.ref(key)})"
            else:
                target = obj if obj is not None else f"({raw} or {self.ref(EMPTY)})"
                default = f", {self.ref(MISSING)}" if final_missing else ""
                raw = f"{target}.get({self.ref(key)}{default})"
            obj = None
        assert raw is not None
        if not self._in_main:
            return raw
        # In the main function a lookup is a placeholder until the source is assembled: a path
        # read twice or more is then computed once, at the top (see module_source).
        entry = self._paths.get((keys, missing))
        if entry is None:
            entry = self._paths[(keys, missing)] = (f"\x00{len(self._paths)}\x00", raw)
        return entry[0]

    # -- helper functions ------------------------------------------------------------------------

    def define(self, params: str, body: Callable[[], list[str]], *, data_is_object: bool = False) -> str:
        """Emit a module-level helper function (a loop over scoped data). ``body()`` returns its
        lines; while it runs, the current data is the helper's local ``data``."""
        self._count += 1
        name = f"_s{self._count}"
        saved = (self.scope, self._in_main, self._scope_is_object)
        self.scope, self._in_main, self._scope_is_object = "data", False, data_is_object
        try:
            lines = body()
        finally:
            self.scope, self._in_main, self._scope_is_object = saved
        self._functions.append("\n".join([f"def {name}({params}):", *("    " + line for line in lines)]))
        return name

    def module_source(self, result: Code, fallback: Any) -> str:
        """The complete source: helper functions, then ``_condition(data)``.

        Data access is hoisted to the top of ``_condition``: the first level of every path read
        through (as ``data.get(key) or {}``) and every path read more than once. Lookups have no
        side effects, so computing one that a short-circuit would have skipped changes nothing.
        """
        expr = result.expr
        hoisted: list[str] = []
        for token, lookup in self._paths.values():
            if expr.count(token) > 1:
                name = self.temp()
                hoisted.append(f"{name} = {lookup}")
                expr = expr.replace(token, name)
            else:
                expr = expr.replace(token, lookup)
        body = "\n".join([*hoisted, expr])
        roots = [f"{name} = {lookup}" for name, lookup in self._roots.values() if name in body]
        main = ["def _condition(data):", "    try:"]
        main.extend(f"        {line}" for line in [*roots, *hoisted])
        main.append(f"        return {expr}")
        main.append("    except (TypeError, AttributeError):")
        main.append(f"        return {self.ref(fallback)}(data)")
        return "\n\n".join([*self._functions, "\n".join(main)]) + "\n"


def generate(
    node: Node,
    registry: OperatorRegistry,
    closures: ClosureCompiler,
    *,
    namespace: dict[str, Any] | None = None,
    fallback: Evaluator | None = None,
) -> Evaluator | None:
    """The generated function of ``node``, or ``None`` when Python refuses the source (nesting
    limits). ``node`` must be pure: an input may be evaluated twice (fast path, then closures).

    The function's globals are ``namespace`` (a fresh dict by default; the generated names are
    ``_condition``, ``_s<n>`` and ``_k<n>``). ``fallback`` evaluates what the fast paths do not
    cover: the closures of ``node``, compiled on first use when not given.
    """
    gen = CodeGen(closures, namespace)
    result = gen.emit(node)
    source = gen.module_source(result, _LazyFallback(node, closures) if fallback is None else fallback)
    cache = registry.code_cache
    code = cache.get(source)
    if code is None:
        try:
            code = compile(source, "<condition>", "exec", dont_inherit=True)
        except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:  # e.g. nesting limits
            _log.debug("condition %s: generated code rejected (%s); using closures", node.path, exc)
            return None
        if len(cache) >= _CACHE_LIMIT:
            cache.pop(next(iter(cache)))
        cache[source] = code
    exec(code, gen.namespace)  # noqa: S102 - our own generated source, no rule text in it
    function: Evaluator = gen.namespace["_condition"]
    function.__source__ = source  # type: ignore[attr-defined]
    return function


def compile_to_function(node: Node, registry: OperatorRegistry, closures: ClosureCompiler) -> Evaluator:
    """The generated function of ``node`` (or its closures, should Python refuse the source).

    ``node`` must be pure: an input may be evaluated twice (fast path, then closures).
    """
    function = generate(node, registry, closures)
    return closures.compile(node) if function is None else function
