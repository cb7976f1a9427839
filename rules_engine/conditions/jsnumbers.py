"""JavaScript number semantics: parsing strings into numbers and numbers into strings.

JsonLogic conditions run with the value semantics of json-logic-js, so every conversion between
strings and numbers here follows ECMAScript exactly:

* :func:`string_to_number` is ``Number(s)`` (StringToNumber): trims JS whitespace, accepts
  ``Infinity``, decimal literals and ``0x``/``0o``/``0b`` integers, and is ``NaN`` otherwise
  (Python's ``float()`` would accept ``"1_000"``, ``"inf"`` or ``"nan"``, JavaScript does not).
* :func:`parse_float_text` is the global ``parseFloat`` of a string: the longest decimal prefix
  after leading whitespace (``"1.5abc"`` is 1.5, ``"0x10"`` is 0, ``"null"`` is NaN).
* :func:`number_to_string` is ``Number::toString``: ``21.0`` is ``"21"``, ``1e21`` is
  ``"1e+21"``, ``1e-7`` is ``"1e-7"``, ``-0`` is ``"0"``.

Python ``int`` and ``float`` both model the JS number type (``bool`` never does). Integers whose
magnitude exceeds 2**53 are not representable in JavaScript; where one enters an arithmetic or
conversion on the slow path it is rounded to the nearest double, as JavaScript would have rounded
it when parsing JSON.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "EXACT_INT",
    "NAN",
    "INF",
    "JS_WHITESPACE",
    "is_number",
    "is_negative_zero",
    "int_to_float",
    "normalize_int",
    "string_to_number",
    "parse_float_text",
    "number_to_string",
    "to_integer_or_infinity",
]

#: Integers up to this magnitude are exact in an IEEE-754 double (2**53).
EXACT_INT = 2**53
NAN = math.nan
INF = math.inf

#: ECMAScript WhiteSpace and LineTerminator code points (what ``String.prototype.trim`` removes).
JS_WHITESPACE = (
    "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)

_DECIMAL = r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
_STR_DECIMAL = re.compile(_DECIMAL + r"\Z")
_STR_NON_DECIMAL = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)\Z")
_PARSE_FLOAT = re.compile(_DECIMAL)


def is_number(value: object) -> bool:
    """True for a JS number: a Python ``int`` or ``float`` that is not a ``bool``."""
    cls = type(value)
    return cls is int or cls is float


def is_negative_zero(value: object) -> bool:
    """True for ``-0.0`` (JavaScript ``-0``)."""
    return type(value) is float and value == 0.0 and math.copysign(1.0, value) < 0


def int_to_float(value: int) -> float:
    """Round an integer to the nearest double, overflowing to +/-Infinity like JavaScript."""
    try:
        return float(value)
    except OverflowError:
        return INF if value > 0 else -INF


def normalize_int(value: int) -> int | float:
    """An integer as JavaScript would hold it: exact up to 2**53, else the nearest double."""
    if -EXACT_INT <= value <= EXACT_INT:
        return value
    return int_to_float(value)


def _literal_to_float(text: str) -> float:
    if text.endswith("Infinity"):
        return -INF if text[0] == "-" else INF
    return float(text)


def string_to_number(text: str) -> float:
    """ECMAScript StringToNumber (what ``Number(text)`` and ``+text`` do)."""
    trimmed = text.strip(JS_WHITESPACE)
    if not trimmed:
        return 0.0
    if _STR_DECIMAL.match(trimmed):
        return _literal_to_float(trimmed)
    if _STR_NON_DECIMAL.match(trimmed):
        return int_to_float(int(trimmed, 0))
    return NAN


def parse_float_text(text: str) -> float:
    """The JavaScript global ``parseFloat`` applied to a string (``+`` and ``*`` use it)."""
    match = _PARSE_FLOAT.match(text.lstrip(JS_WHITESPACE))
    if match is None:
        return NAN
    return _literal_to_float(match.group())


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits of a positive finite double and its decimal exponent ``n``.

    The value is ``0.d1d2...dk * 10**n``. Python's ``repr`` and ECMAScript both produce the
    shortest digit string that round-trips (closest to the value), so the digits agree.
    """
    mantissa, _, exponent = repr(value).partition("e")
    integral, _, fraction = mantissa.partition(".")
    digits = integral + fraction
    stripped = digits.lstrip("0")
    n = len(integral) + (int(exponent) if exponent else 0) - (len(digits) - len(stripped))
    return stripped.rstrip("0"), n


def number_to_string(value: int | float) -> str:
    """ECMAScript ``Number::toString(value)`` (radix 10)."""
    if type(value) is int:
        if -EXACT_INT <= value <= EXACT_INT:
            return str(value)
        value = int_to_float(value)
    if value != value:
        return "NaN"
    if value == 0:
        return "0"
    if value in (INF, -INF):
        return "Infinity" if value > 0 else "-Infinity"
    sign = "-" if value < 0 else ""
    digits, n = _shortest_digits(abs(value))
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        exponent = n - 1
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if exponent >= 0 else "-")
        text += str(abs(exponent))
    return sign + text


def to_integer_or_infinity(number: int | float) -> int | float:
    """ECMAScript ToIntegerOrInfinity of a number: NaN is 0, infinities stay, else truncation."""
    if type(number) is int:
        return number
    if number != number:
        return 0
    if number in (INF, -INF):
        return number
    return math.trunc(number)
