"""Multi-row statements in a few fixed sizes, so that SQLite prepares each size once.

sqlite3 keeps a connection's prepared statements by their text (128 of them by default), and
preparing an INSERT of 64 rows costs SQLite about as much as writing 150 of them. Cutting a batch
into chunks of any size would prepare a new statement for nearly every remainder, and the
remainders would push each other out of the cache; cutting the remainder into powers of two keeps
every batch to the sizes ``most, most/2, ..., 2, 1``. A list of values to look up is padded to
a power of two instead: repeating a value in ``IN (...)`` changes nothing.
"""

from __future__ import annotations

from typing import Iterator, Sequence, TypeVar

__all__ = ["padded_length", "row_chunks"]

T = TypeVar("T")


def row_chunks(values: Sequence[T], width: int, most: int) -> Iterator[tuple[int, Sequence[T]]]:
    """``(rows, values of those rows)`` over ``values``, rows of ``width`` values each: chunks of
    ``most`` rows (a power of two), then the rest in chunks of decreasing powers of two."""
    rows_left, start = len(values) // width, 0
    rows = most
    while rows_left:
        while rows > rows_left:
            rows >>= 1
        end = start + rows * width
        yield rows, values[start:end]
        start, rows_left = end, rows_left - rows


def padded_length(length: int) -> int:
    """The smallest power of two not below ``length``: the length to pad a list of ``IN (?, ...)``
    values to (by repeating one of them) so that lists of any length share a few statements."""
    return 1 << max(length - 1, 0).bit_length()
