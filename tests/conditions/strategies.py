"""Hypothesis strategies: IoT-style JsonLogic rules and sparse uplink contexts.

Rules use every standard operator with a valid argument count, over vars of the shape a rule
engine sees (``uplink.port``, ``decoded.temperature``, ``decoded.readings.0.value``...), many of
which are absent from a given context. Values mix numbers (negative, fractional, large, small),
numeric strings in every JavaScript spelling (``" 12 "``, ``"0x1f"``, ``"1e3"``, ``".5"``),
non-numeric strings (with non-ASCII and astral characters), booleans, null, arrays and objects,
so that the coercion paths run, not only the fast ones.

Left out, on purpose: integers beyond +/-2**53 (JavaScript cannot hold them), object keys that
are JavaScript prototype properties (``constructor``...), strings with lone surrogates, and data
objects whose keys could be read as operators by ``missing`` (json-logic-js would evaluate them).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

PATHS = [
    "uplink.port",
    "uplink.module",
    "uplink.gateway",
    "uplink.signal.rssi",
    "uplink.signal.snr",
    "decoded.temperature",
    "decoded.humidity",
    "decoded.battery",
    "decoded.status",
    "decoded.flags",
    "decoded.readings",
    "decoded.readings.0.value",
    "decoded.readings.1",
    "decoded.readings.length",
    "decoded.name.length",
    "decoded.name.1",
    "decoded.nope",
    "decoded",
    "device.state",
    "now",
    "nope.deep.path",
    "value",
    "ch",
    "",
    "0",
    "current",
    "accumulator",
    "current.value",
]

STRINGS = [
    "", "0", "1", "2", "10", "30", "3.3", "-5", " 12 ", "\u00a07\n", "0x1f", "0b101", "0o17", "1e3",
    ".5", "5.", "+3", "1_000", "inf", "Infinity", "-Infinity", "NaN", "1,2", "true", "null", "abc",
    "ok", "alarm", "alarmist", "OK", "é", "zé", "😀", "a😀b", "\uffff", "$301$0-0-0-030001665",
]

INTEGERS = st.one_of(
    st.sampled_from([0, 1, -1, 2, 3, 10, 25, 30, 50, 80, 100, 255, -120]),
    st.integers(min_value=-(2**53), max_value=2**53),
)
FLOATS = st.one_of(
    st.sampled_from([0.5, -0.5, 3.3, 21.0, 21.5, 1e21, 1e-7, 123456789012345680000.0, 0.1, -0.0, 1e300]),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)
SCALARS = st.one_of(
    INTEGERS,
    FLOATS,
    st.sampled_from(STRINGS),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=6),
    st.booleans(),
    st.none(),
)


def _values(depth: int = 2) -> st.SearchStrategy[Any]:
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.sampled_from(["value", "ch", "x", "a"]), inner, min_size=2, max_size=3),
        ),
        max_leaves=depth * 3,
    )


VALUES = _values()
READING = st.fixed_dictionaries({}, optional={"ch": INTEGERS, "value": SCALARS})
READINGS = st.one_of(st.lists(st.one_of(READING, SCALARS), max_size=5), SCALARS)

CONTEXTS = st.fixed_dictionaries(
    {},
    optional={
        "uplink": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "port": st.one_of(INTEGERS, st.sampled_from(["2", " 2", "x"]), st.none()),
                    "module": st.sampled_from(["$301$0-0-0-030001665", "$301$0-0-0-030001666", "m3", ""]),
                    "gateway": st.sampled_from(["gw1", "gw2", "gw9"]),
                    "signal": st.fixed_dictionaries({}, optional={"rssi": INTEGERS, "snr": FLOATS}),
                },
            ),
            st.none(),
        ),
        "decoded": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "temperature": SCALARS,
                    "humidity": SCALARS,
                    "battery": SCALARS,
                    "status": st.one_of(st.sampled_from(["ok", "alarm", ""]), SCALARS),
                    "flags": VALUES,
                    "readings": READINGS,
                    "name": st.sampled_from(["", "abc", "zé😀x"]),
                },
            ),
            st.none(),
            SCALARS,
        ),
        "device": st.fixed_dictionaries({}, optional={"state": SCALARS}),
        "now": INTEGERS,
        "value": SCALARS,
        "current": SCALARS,
    },
)
#: The data of a case: almost always a context object, sometimes anything at all.
DATA = st.one_of(CONTEXTS, CONTEXTS, CONTEXTS, CONTEXTS, VALUES)

_LITERAL_SCALARS = st.one_of(INTEGERS, FLOATS, st.sampled_from(STRINGS), st.booleans(), st.none())


def _var() -> st.SearchStrategy[Any]:
    path = st.sampled_from(PATHS)
    return st.one_of(
        st.builds(lambda p: {"var": p}, path),
        st.builds(lambda p: {"var": [p]}, path),
        st.builds(lambda p, d: {"var": [p, d]}, path, _LITERAL_SCALARS),
        st.builds(lambda n: {"var": n}, st.integers(min_value=0, max_value=2)),
    )


LEAVES = st.one_of(_var(), _var(), _var(), _LITERAL_SCALARS, st.lists(_LITERAL_SCALARS, max_size=3))
_KEYS = st.lists(st.sampled_from([p for p in PATHS if p]), min_size=1, max_size=3)


def _is_operation(value: Any) -> bool:
    return type(value) is dict and len(value) == 1


def _operations(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    def op(name: str, low: int, high: int) -> st.SearchStrategy[Any]:
        return st.builds(lambda args: {name: args}, st.lists(children, min_size=low, max_size=high))

    return st.one_of(
        *(op(name, 2, 2) for name in ("==", "===", "!=", "!==", ">", ">=", "/", "%")),
        op("<", 2, 3),
        op("<=", 2, 3),
        op("and", 1, 3),
        op("or", 1, 3),
        op("if", 0, 5),
        op("?:", 3, 3),
        op("!", 1, 1),
        op("!!", 1, 1),
        st.builds(lambda a: {"!": a}, children.filter(lambda child: type(child) is not list)),  # scalar form
        op("+", 1, 3),
        op("-", 1, 2),
        op("*", 1, 3),
        op("max", 1, 3),
        op("min", 1, 3),
        op("cat", 1, 3),
        op("substr", 2, 3),
        op("in", 2, 2),
        st.builds(lambda a, hay: {"in": [a, hay]}, children, st.lists(_LITERAL_SCALARS, max_size=4)),
        st.builds(lambda a, hay: {"in": [a, hay]}, children, st.sampled_from(STRINGS)),
        op("merge", 0, 3),
        op("log", 1, 1),
        st.builds(lambda keys: {"missing": keys}, _KEYS),
        st.builds(lambda keys: {"!": {"missing": keys}}, _KEYS),
        st.builds(lambda keys, c: {"missing": {"if": [c, keys, []]}}, _KEYS, children),
        st.builds(lambda n, keys: {"missing_some": [n, keys]}, st.integers(0, 3), _KEYS),
        st.builds(lambda path: {"var": [path]}, children.filter(_is_operation)),
        st.builds(lambda path, default: {"var": [path, default]}, children.filter(_is_operation), children),
        *(
            st.builds(lambda items, logic, name=name: {name: [items, logic]}, st.one_of(_var(), children), children)
            for name in ("some", "all", "none", "map", "filter")
        ),
        st.builds(
            lambda items, logic, init: {"reduce": [items, logic, init]},
            st.one_of(_var(), children),
            children,
            children,
        ),
        st.builds(lambda items, logic: {"reduce": [items, logic]}, st.one_of(_var(), children), children),
    )


RULES = st.recursive(LEAVES, _operations, max_leaves=14)
