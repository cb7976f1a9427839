"""Sequence numbers and the ack option, at the unit level."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from rules_engine.acks.spec import DEFAULT_ACK_CONDITION, SEQ_MODULUS, AckSpec, RetrySpec, seq_hex
from rules_engine.acks.store import allocate_seq
from rules_engine.conditions import compile_condition
from rules_engine.ledger.store import Ledger


def test_sequence_numbers_wrap_and_skip_open_sends(tmp_path: Path) -> None:
    ledger = Ledger.open_writer(tmp_path / "l.db")
    try:
        with ledger.transaction() as conn:
            assert [allocate_seq(conn, "t") for _ in range(3)] == [1, 2, 3]
            assert allocate_seq(conn, "other") == 1                     # per AppToken
            conn.execute("UPDATE send_seq SET next = ? WHERE app_token = 't'", (SEQ_MODULUS - 1,))
            conn.execute("INSERT INTO firings (id, rule_id, event_id, event_kind, ts, evaluation, created_at) VALUES (1, 'r', 'e', 'x', 0, '{}', 0)")
            for seq, status in ((0, "open"), (1, "pending"), (2, "complete")):
                conn.execute("INSERT INTO tracked_sends (intent_key, firing_id, rule_id, app_token, seq, kind, params, spec, status, created_at) "
                             "VALUES (?, 1, 'r', 't', ?, 'multicast', '{}', '{}', ?, 0)", (f"k{seq}", seq, status))
            assert allocate_seq(conn, "t") == SEQ_MODULUS - 1
            assert allocate_seq(conn, "t") == 2                         # 0 and 1 belong to sends still open
    finally:
        ledger.close()


def test_default_ack_condition_matches_the_simulator_convention() -> None:
    condition = compile_condition(DEFAULT_ACK_CONDITION)
    send = {"seq": 42, "seq_hex": seq_hex(42)}
    assert condition({"uplink": {"port": 7, "payload_hex": "AC0000002A"}, "send": send})
    assert not condition({"uplink": {"port": 7, "payload_hex": "AC0000002B"}, "send": send})
    assert not condition({"uplink": {"port": 1, "payload_hex": "AC0000002A"}, "send": send})
    assert seq_hex(SEQ_MODULUS + 5) == "00000005"


def test_ack_spec_validation() -> None:
    with pytest.raises(ValidationError, match="expect: group needs 'group'"):
        AckSpec(expect="group")
    with pytest.raises(ValidationError, match="gateway_rate is a count per unit"):
        RetrySpec(gateway_rate="fast")
    assert RetrySpec(gateway_rate="30/min").gateway_interval == 2.0
    assert RetrySpec(gateway_rate="2/s").gateway_interval == 0.5
    with pytest.raises(ValidationError):
        AckSpec(surprise=True)
