"""Uplink generation: schedule, gateway choice, payload, ingest delay, signal metadata.

Every attribute of the ``n``-th uplink of module ``m`` is a pure function of (seed, m, n, kind),
so the fleet is the same whatever steps the lazy catch-up takes. One blake2b digest per uplink
gives 16 random 32-bit words; their slots:

* module words ``words(seed, m, -1)``: 0 phase, 1 temperature base, 2 daily phase, 3 humidity
  base, 4 battery, 5 base RSSI, 6 cell id, 7 cell TAC, 8-9 IMEI, 10-11 ICCID
* uplink words ``words(seed, m, n, kind)``: 0 jitter, 1-2 gateway, 3 ingest delay, 4 late ingest,
  5-8 uuid, 9 temperature noise, 10 humidity noise, 11 button, 12 tamper, 13-15 signal
"""

from __future__ import annotations

from array import array
from typing import Any

from rules_engine.simulator import _invented as inv
from rules_engine.simulator._rng import U32, seed64, uuid4_words, words
from rules_engine.simulator.codec import encode_uplink
from rules_engine.simulator.faults import Faults
from rules_engine.simulator.fleet import Fleet
from rules_engine.simulator.store import Uplink

__all__ = ["UplinkFactory", "KIND_DATA", "KIND_ACK"]

KIND_DATA = "data"
KIND_ACK = "ack"
_KIND_CODE = {KIND_DATA: 0, KIND_ACK: 1}


class UplinkFactory:
    def __init__(self, fleet: Fleet, start_ms: int) -> None:
        self.fleet = fleet
        self.seed = seed64(fleet.config.seed)
        self.start_ms = start_ms
        self.jitter_ms = int(fleet.config.uplink_jitter_s * 1000)
        self.primary_p = fleet.config.primary_gateway_probability
        self.ingest_low, self.ingest_high = fleet.config.service.ingest_delay_ms
        self.codec = fleet.config.codec
        self._codec_cache = array("Q", bytes(8 * 5 * len(fleet.module_addresses)))

    def module_words(self, m: int) -> tuple[int, ...]:
        return words(self.seed, m, -1)

    def _module_codec_words(self, m: int) -> tuple[int, ...]:
        """Module words for the codec, memoised in compact arrays (one slot per module)."""
        cache = self._codec_cache
        base = m * 5
        if cache[base] == 0:
            mw = self.module_words(m)
            cache[base : base + 5] = array("Q", (1, mw[1], mw[2], mw[3], mw[4]))
        return tuple(cache[base : base + 5])

    # -- schedule ---------------------------------------------------------------------------
    def first_due(self, m: int) -> int:
        interval = self.fleet.module_interval_ms[m]
        return self.start_ms + int(self.module_words(m)[0] / U32 * interval)

    def _next_due(self, m: int, w: tuple[int, ...], due_ms: int) -> int:
        interval = self.fleet.module_interval_ms[m]
        jitter = 0
        if self.jitter_ms:
            jitter = w[0] % (2 * self.jitter_ms + 1) - self.jitter_ms
        return due_ms + max(1, interval + jitter)

    # -- records ----------------------------------------------------------------------------
    def _gateway(self, m: int, w: tuple[int, ...]) -> int:
        gateways = self.fleet.module_gateways[m]
        if len(gateways) == 1 or w[1] / U32 < self.primary_p:
            return gateways[0]
        return gateways[1 + w[2] % (len(gateways) - 1)]

    def _visible(self, w: tuple[int, ...], time_ms: int, faults: Faults) -> int:
        delay = self.ingest_low + w[3] % (self.ingest_high - self.ingest_low + 1)
        if faults.late_ingest_rate and w[4] / U32 < faults.late_ingest_rate:
            delay += int(faults.late_ingest_s * 1000)
        return time_ms + delay

    def regular(self, seq: int, m: int, n: int, time_ms: int, faults: Faults) -> tuple[Uplink, int]:
        """The ``n``-th regular uplink of ``m`` (due at ``time_ms``) and the due time of the next."""
        w = words(self.seed, m, n, 0)
        record = Uplink(
            seq=seq,
            time_ms=time_ms,
            visible_ms=self._visible(w, time_ms, faults),
            module=m,
            gateway=self._gateway(m, w),
            port=self.codec.port,
            pld=encode_uplink(self.codec, self._module_codec_words(m), w, n, time_ms),
            uuid=uuid4_words(w, 5),
            kind=KIND_DATA,
            n=n,
        )
        return record, self._next_due(m, w, time_ms)

    def ack(
        self, seq: int, m: int, n: int, time_ms: int, gateway: int, payload: bytes, issuance_id: str, faults: Faults
    ) -> Uplink:
        replies = self.fleet.config.ack_replies
        w = words(self.seed, m, n, 1)
        return Uplink(
            seq=seq,
            time_ms=time_ms,
            visible_ms=self._visible(w, time_ms, faults),
            module=m,
            gateway=gateway,
            port=replies.port,
            pld=payload,
            uuid=uuid4_words(w, 5),
            kind=KIND_ACK,
            n=n,
            ack_of=issuance_id,
            signal=replies.signal_metadata,
        )

    # -- signal metadata (rendered on demand) ---------------------------------------------------
    def signal(self, record: Uplink, module_address: str, gateway_address: str) -> dict[str, Any] | None:
        if not record.signal:
            return None
        m = record.module
        mw = self.module_words(m)
        w = words(self.seed, m, record.n, _KIND_CODE[record.kind])
        common = {"sourceAddress": module_address, "destAddress": gateway_address, "linkType": inv.LINK_TYPE}
        if self.fleet.module_lte[m]:
            return {
                "@type": inv.LTEM_SIGNAL_TYPE,
                **common,
                "cellId": 10_000_000 + mw[6] % 20_000_000,
                "cellTac": 1000 + mw[7] % 64000,
                "cellRsrp": -120 + w[13] % 41,
                "cellRsrq": -20 + w[14] % 16,
                "imei": self.imei(m),
            }
        channel = w[13] % 48
        return {
            "@type": inv.SYMPHONY_SIGNAL_TYPE,
            **common,
            "sf": 7 + w[14] % 6,
            "snr": -5 + w[15] % 21,
            "rssi": -115 + mw[5] % 41 + (w[14] >> 8) % 13 - 6,
            "frequency": 902_300_000 + 500_000 * channel,
            "channelNumber": channel,
        }

    def imei(self, m: int) -> str:
        mw = self.module_words(m)
        return f"35{((mw[8] << 32) | mw[9]) % 10**13:013d}"

    def iccid(self, m: int) -> str:
        mw = self.module_words(m)
        return f"8901{((mw[10] << 32) | mw[11]) % 10**15:015d}"
