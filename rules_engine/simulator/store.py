"""Uplink storage: one global, time-ordered record list plus a seq index per query subject.

Uplinks are generated in time order (a heap of due times), so every index is append-only and
sorted; window queries bisect on time (O(log n + page)). Records are compact ``__slots__``
objects; JSON is rendered only for the page being served.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator

__all__ = ["Uplink", "UplinkStore", "SubjectKey"]

SubjectKey = tuple[str, str]


class Uplink:
    """One generated uplink. ``n`` and ``kind`` key its deterministic random attributes."""

    __slots__ = (
        "seq",
        "time_ms",
        "visible_ms",
        "module",
        "gateway",
        "port",
        "pld",
        "uuid",
        "kind",
        "n",
        "ack_of",
        "signal",
    )

    def __init__(
        self,
        seq: int,
        time_ms: int,
        visible_ms: int,
        module: int,
        gateway: int,
        port: int,
        pld: bytes,
        uuid: str,
        kind: str,
        n: int,
        ack_of: str | None = None,
        signal: bool = True,
    ) -> None:
        self.seq = seq
        self.time_ms = time_ms
        self.visible_ms = visible_ms
        self.module = module
        self.gateway = gateway
        self.port = port
        self.pld = pld
        self.uuid = uuid
        self.kind = kind
        self.n = n
        self.ack_of = ack_of
        self.signal = signal


class UplinkStore:
    def __init__(self) -> None:
        self.records: list[Uplink] = []
        self.times = array("q")
        self.subjects: dict[SubjectKey, array] = {}

    def __len__(self) -> int:
        return len(self.records)

    def append(self, record: Uplink, keys: tuple[SubjectKey, ...]) -> None:
        if self.times and record.time_ms < self.times[-1]:
            raise AssertionError("uplinks must be appended in time order")
        self.records.append(record)
        self.times.append(record.time_ms)
        for key in keys:
            index = self.subjects.get(key)
            if index is None:
                index = self.subjects[key] = array("q")
            index.append(record.seq)

    def _bounds(self, index: array, start_ms: int, stop_ms: int) -> tuple[int, int]:
        key = self.times.__getitem__
        return bisect_left(index, start_ms, key=key), bisect_right(index, stop_ms, key=key)

    def window(
        self,
        key: SubjectKey,
        start_ms: int,
        stop_ms: int,
        asof_ms: int,
        limit: int,
        before: int | None = None,
    ) -> tuple[list[Uplink], int | None]:
        """Newest-first uplinks of ``key`` with ``start <= time <= stop`` visible at ``asof``.

        ``before`` is the cursor from the previous page (an index position, exclusive). Returns
        the page and the cursor of the next page, or None when no visible record remains.
        """
        index = self.subjects.get(key)
        if index is None:
            return [], None
        low, high = self._bounds(index, start_ms, stop_ms)
        if before is not None:
            high = min(high, before)
        page: list[Uplink] = []
        records = self.records
        position = high - 1
        while position >= low:
            record = records[index[position]]
            if record.visible_ms <= asof_ms:
                if len(page) == limit:
                    return page, position + 1
                page.append(record)
            position -= 1
        return page, None

    def most_recent(self, key: SubjectKey, asof_ms: int, limit: int) -> list[Uplink]:
        index = self.subjects.get(key)
        if index is None:
            return []
        page: list[Uplink] = []
        for position in range(len(index) - 1, -1, -1):
            record = self.records[index[position]]
            if record.visible_ms <= asof_ms:
                page.append(record)
                if len(page) == limit:
                    break
        return page

    def find(self, uuid: str, time_ms: int) -> Uplink | None:
        low = bisect_left(self.times, time_ms)
        high = bisect_right(self.times, time_ms)
        for record in self.records[low:high]:
            if record.uuid == uuid:
                return record
        return None

    def select(self, key: SubjectKey | None, since_ms: int | None, until_ms: int | None) -> Iterator[Uplink]:
        """Oldest-first records of a subject (or all) in ``[since, until]``, visible or not."""
        start = since_ms if since_ms is not None else -(1 << 62)
        stop = until_ms if until_ms is not None else 1 << 62
        if key is None:
            low, high = bisect_left(self.times, start), bisect_right(self.times, stop)
            yield from self.records[low:high]
            return
        index = self.subjects.get(key)
        if index is None:
            return
        low, high = self._bounds(index, start, stop)
        for position in range(low, high):
            yield self.records[index[position]]

    def module_recent(self, key: SubjectKey, since_ms: int) -> Iterator[Uplink]:
        """Newest-first records of a subject with ``time >= since``."""
        index = self.subjects.get(key)
        if index is None:
            return
        low = bisect_left(index, since_ms, key=self.times.__getitem__)
        for position in range(len(index) - 1, low - 1, -1):
            yield self.records[index[position]]
