"""JSON paths of condition nodes, as carried by :class:`~rules_engine.errors.ConditionError`.

A path starts at ``$`` (the condition itself); an object key (always an operator name) follows a
dot, an array index is in brackets::

    $.and[1].fooo          the operator "fooo" of the second operand of "and"
    $.or[0].<[2]           the third argument of "<"

A key that could not be read back from that form (one with ``.``, ``[``, ``]``, a quote, a
backslash or white space, which no registered operator has) is written ``['key']``.

:func:`split_path` turns a path back into its segments, so a rule loader can point at the
matching line of the file the condition came from.
"""

from __future__ import annotations

import functools
import re

__all__ = ["ROOT", "child_key", "child_index", "split_path"]

ROOT = "$"
_PLAIN_KEY = re.compile(r"[^.\[\]'\\\s]+\Z")
_SEGMENT = re.compile(r"\.([^.\[\]'\\\s]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")


@functools.lru_cache(maxsize=512)
def _key_segment(key: str) -> str:
    if _PLAIN_KEY.match(key):
        return f".{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"['{escaped}']"


def child_key(path: str, key: str) -> str:
    """The path of ``key`` in the object at ``path``."""
    return path + _key_segment(key)


def child_index(path: str, index: int) -> str:
    """The path of item ``index`` of the array at ``path``."""
    return f"{path}[{index}]"


def split_path(path: str) -> list[str | int]:
    """The segments of a path: object keys as ``str``, array indices as ``int``.

    >>> split_path("$.and[1].<[0]")
    ['and', 1, '<', 0]
    """
    if not path.startswith(ROOT):
        raise ValueError(f"not a condition path: {path!r}")
    segments: list[str | int] = []
    at = len(ROOT)
    while at < len(path):
        match = _SEGMENT.match(path, at)
        if match is None:
            raise ValueError(f"not a condition path: {path!r} (at offset {at})")
        key, index, quoted = match.groups()
        if index is not None:
            segments.append(int(index))
        elif key is not None:
            segments.append(key)
        else:
            segments.append(re.sub(r"\\(.)", r"\1", quoted))
        at = match.end()
    return segments
