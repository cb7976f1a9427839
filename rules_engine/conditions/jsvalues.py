"""JavaScript value semantics for JsonLogic, as json-logic-js defines them.

Python values model JS values: ``None`` is null, ``bool`` is boolean, ``int``/``float`` (never
``bool``) is number, ``str`` is string, ``list`` is an array and ``dict`` a plain object. Arrays
and objects compare by identity, as in JavaScript.

Every function here is total: it never raises for JSON-like input, exactly as the JS operators
never throw. These are the slow paths; compiled conditions inline fast paths for the common
types and call into this module only when a coercion is needed.
"""

from __future__ import annotations

import re
from typing import Any

from rules_engine.conditions.jsnumbers import (
    INF,
    NAN,
    normalize_int,
    number_to_string,
    parse_float_text,
    string_to_number,
    to_integer_or_infinity,
)

__all__ = [
    "truthy",
    "to_string",
    "to_primitive",
    "to_number",
    "parse_float",
    "array_join",
    "loose_eq",
    "strict_eq",
    "js_lt",
    "js_le",
    "js_gt",
    "js_ge",
    "js_in",
    "js_cat",
    "js_substr",
    "js_merge",
    "utf16_length",
    "copy_arrays",
]

_SURROGATE = re.compile("[\ud800-\udfff]")


# -- conversions ---------------------------------------------------------------------------------


def truthy(value: Any) -> bool:
    """JsonLogic truthiness: JavaScript ``!!value``, except that ``[]`` is falsy.

    Differs from Python's ``bool`` for ``{}`` (truthy) and ``NaN`` (falsy).
    """
    cls = type(value)
    if cls is bool:
        return value  # type: ignore[no-any-return]
    if cls is dict:
        return True
    if cls is float:
        return value == value and value != 0.0  # type: ignore[no-any-return]
    return bool(value)


def array_join(items: list[Any], separator: str = ",") -> str:
    """``Array.prototype.join``: ``null`` elements render as the empty string."""
    return separator.join("" if item is None else to_string(item) for item in items)


def to_string(value: Any) -> str:
    """ECMAScript ToString (``String(value)``)."""
    cls = type(value)
    if cls is str:
        return value  # type: ignore[no-any-return]
    if cls is bool:
        return "true" if value else "false"
    if cls is int or cls is float:
        return number_to_string(value)
    if value is None:
        return "null"
    if cls is list:
        return array_join(value)
    return "[object Object]"


def to_primitive(value: Any) -> Any:
    """ECMAScript ToPrimitive: arrays become their joined string, objects ``"[object Object]"``."""
    cls = type(value)
    if cls is list:
        return array_join(value)
    if cls is dict:
        return "[object Object]"
    return value


def to_number(value: Any) -> int | float:
    """ECMAScript ToNumber: null is 0, booleans 1/0, strings parsed, arrays via their string."""
    cls = type(value)
    if cls is int:
        return normalize_int(value)
    if cls is float:
        return value  # type: ignore[no-any-return]
    if cls is bool:
        return 1 if value else 0
    if value is None:
        return 0
    if cls is str:
        return string_to_number(value)
    if cls is list:
        return string_to_number(array_join(value))
    return NAN


def parse_float(value: Any) -> int | float:
    """The JavaScript global ``parseFloat(value)``: ``parseFloat(String(value))``."""
    cls = type(value)
    if cls is int:
        return normalize_int(value)
    if cls is float:
        return 0.0 if value == 0.0 else value  # String(-0) is "0"
    return parse_float_text(value if cls is str else to_string(value))


# -- UTF-16 (JavaScript strings are sequences of UTF-16 code units) ------------------------------


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def _from_utf16(data: bytes) -> str:
    return data.decode("utf-16-be", "surrogatepass")


def utf16_length(text: str) -> int:
    """``text.length`` in JavaScript: the number of UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(_utf16(text)) // 2


def _string_lt(left: str, right: str) -> bool:
    # JavaScript orders strings by UTF-16 code units; Python by code points. They agree unless a
    # character outside the Basic Multilingual Plane is involved.
    if left.isascii() and right.isascii():
        return left < right
    return _utf16(left) < _utf16(right)


def _string_contains(haystack: str, needle: str) -> bool:
    if not (_SURROGATE.search(haystack) or _SURROGATE.search(needle)):
        return needle in haystack
    hay, sub = _utf16(haystack), _utf16(needle)
    at = hay.find(sub)
    while at != -1 and at % 2:
        at = hay.find(sub, at + 1)
    return at != -1


# -- equality ------------------------------------------------------------------------------------


def strict_eq(left: Any, right: Any) -> bool:
    """JavaScript ``===``: same type and value; arrays and objects by identity; NaN unequal."""
    lcls, rcls = type(left), type(right)
    if lcls is rcls:
        if lcls is list or lcls is dict:
            return left is right
        return left == right  # type: ignore[no-any-return]
    return (lcls is int or lcls is float) and (rcls is int or rcls is float) and left == right


def loose_eq(left: Any, right: Any) -> bool:
    """JavaScript ``==`` (IsLooselyEqual), with its coercions."""
    lcls, rcls = type(left), type(right)
    if lcls is rcls:
        if lcls is list or lcls is dict:
            return left is right
        return left == right  # type: ignore[no-any-return]
    lnum = lcls is int or lcls is float
    rnum = rcls is int or rcls is float
    if lnum and rnum:
        return left == right  # type: ignore[no-any-return]
    if left is None or right is None:
        return False  # null is only == null (and undefined)
    if lnum and rcls is str:
        return left == string_to_number(right)  # type: ignore[no-any-return]
    if lcls is str and rnum:
        return string_to_number(left) == right  # type: ignore[no-any-return]
    if lcls is bool:
        return loose_eq(1 if left else 0, right)
    if rcls is bool:
        return loose_eq(left, 1 if right else 0)
    if (lcls is list or lcls is dict) and (rcls is str or rnum):
        return loose_eq(to_primitive(left), right)
    if (rcls is list or rcls is dict) and (lcls is str or lnum):
        return loose_eq(left, to_primitive(right))
    return False


# -- relational comparison -----------------------------------------------------------------------


def _compare_operands(left: Any, right: Any) -> tuple[Any, Any, bool]:
    left, right = to_primitive(left), to_primitive(right)
    if type(left) is str and type(right) is str:
        return left, right, True
    return to_number(left), to_number(right), False


def js_lt(left: Any, right: Any) -> bool:
    """JavaScript ``left < right``."""
    a, b, strings = _compare_operands(left, right)
    return _string_lt(a, b) if strings else a < b


def js_gt(left: Any, right: Any) -> bool:
    """JavaScript ``left > right``."""
    a, b, strings = _compare_operands(left, right)
    return _string_lt(b, a) if strings else a > b


def js_le(left: Any, right: Any) -> bool:
    """JavaScript ``left <= right`` (false when either side is NaN)."""
    a, b, strings = _compare_operands(left, right)
    return (not _string_lt(b, a)) if strings else a <= b


def js_ge(left: Any, right: Any) -> bool:
    """JavaScript ``left >= right`` (false when either side is NaN)."""
    a, b, strings = _compare_operands(left, right)
    return (not _string_lt(a, b)) if strings else a >= b


# -- strings and arrays --------------------------------------------------------------------------


def js_in(needle: Any, haystack: Any) -> bool:
    """json-logic-js ``in``: substring test on a string (needle converted with ToString),
    strict-equality ``indexOf`` on an array, ``false`` for anything else or a falsy haystack."""
    cls = type(haystack)
    if cls is str:
        return bool(haystack) and _string_contains(haystack, to_string(needle))
    if cls is list:
        return any(strict_eq(needle, item) for item in haystack)
    return False


def js_cat(*values: Any) -> str:
    """json-logic-js ``cat``: ``Array.prototype.join(arguments, "")``."""
    return "".join("" if value is None else to_string(value) for value in values)


def _substr(text: str, start: Any, length: Any = None, has_length: bool = False) -> str:
    """``String.prototype.substr(start, length)`` on UTF-16 code units."""
    ascii_only = text.isascii()
    size = len(text) if ascii_only else utf16_length(text)
    begin = to_integer_or_infinity(to_number(start))
    if begin == -INF:
        begin = 0
    elif begin < 0:
        begin = max(size + begin, 0)
    else:
        begin = min(begin, size)
    count = to_integer_or_infinity(to_number(length)) if has_length else size
    count = min(max(count, 0), size)
    end = int(min(begin + count, size))
    begin = int(begin)
    if ascii_only:
        return text[begin:end]
    return _from_utf16(_utf16(text)[2 * begin : 2 * end])


def js_substr(source: Any, start: Any, *length: Any) -> str:
    """json-logic-js ``substr``: JavaScript ``substr``, plus a negative length that drops
    characters from the end (PHP style)."""
    text = to_string(source)
    if not length:
        return _substr(text, start)
    end = length[0]
    if js_lt(end, 0):
        rest = _substr(text, start)
        # JS evaluates ``rest.length + end``: a number sum, or a string concatenation when ``end``
        # is (or converts to) a string.
        end_primitive = to_primitive(end)
        if type(end_primitive) is str:
            new_length: Any = number_to_string(utf16_length(rest)) + end_primitive
        else:
            new_length = utf16_length(rest) + to_number(end_primitive)
        return _substr(rest, 0, new_length, True)
    return _substr(text, start, end, True)


def js_merge(*values: Any) -> list[Any]:
    """json-logic-js ``merge``: concatenate arrays; other values are appended as elements."""
    merged: list[Any] = []
    for value in values:
        if type(value) is list:
            merged.extend(value)
        else:
            merged.append(value)
    return merged


def copy_arrays(value: Any) -> Any:
    """A copy of ``value`` with every array rebuilt (objects kept): JavaScript evaluates an array
    literal to a new array each time, while an object literal is the same object every time."""
    if type(value) is list:
        return [copy_arrays(item) if type(item) is list else item for item in value]
    return value
