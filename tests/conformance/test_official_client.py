"""Conformance: every call below is made by the official linklabs-conductor 1.6.4 client."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conductor.account import ConductorAccount
from conductor.devices.gateway import Gateway
from conductor.devices.lte_module import LTEmModule
from conductor.devices.module import Module
from conductor.subject import DownlinkMessageError, FailedAPICallException
from conductor.tokens import AppToken, NetToken

from rules_engine.simulator import DownlinkMode, Simulator, SimulatorServer

from .conftest import PAGE_SIZE


def _window_check(sim: Simulator, call, **filters):  # type: ignore[no-untyped-def]
    """Run ``call``; its uuids must lie between ground truth before and after the call."""
    before = {r.uuid for r in sim.uplinks(visible_only=True, **filters)}
    result = call()
    after = {r.uuid for r in sim.uplinks(**filters)}
    got = [m.uuid for m in result]
    assert len(got) == len(set(got))
    assert before <= set(got) <= after
    return result


def _always_module(sim: Simulator) -> str:
    return next(m.address for m in sim.config.modules_with_mode(DownlinkMode.ALWAYS) if not m.is_lte)


def test_account_discovery(account: ConductorAccount, server: SimulatorServer) -> None:
    config = server.simulator.config.account
    assert account.account_id == config.id and account.account_name == config.name
    by_name = ConductorAccount(config.username, password=config.password, account_name=config.name)
    assert by_name.account_id == config.id


def test_bad_credentials(server: SimulatorServer) -> None:
    with pytest.raises(FailedAPICallException, match="HTTP 401"):
        ConductorAccount(server.simulator.username, password="wrong")


def test_application_tokens(account: ConductorAccount, simulator: Simulator) -> None:
    tokens = account.get_application_tokens()
    assert [t.subject_id for t in tokens] == simulator.app_tokens
    assert all(isinstance(t, AppToken) for t in tokens) and tokens[0].name == "App Token 1"
    one = account.get_application_token(simulator.app_tokens[1])
    assert one.name == "App Token 2"
    with pytest.raises(FailedAPICallException, match=r"HTTP 404 \| Not Found: unknown application token"):
        account.get_application_token("0123456789abcdef0123")


def test_recent_messages_span_several_pages(account: ConductorAccount, simulator: Simulator) -> None:
    token_hash = simulator.app_tokens[0]
    token = account.get_application_token(token_hash)
    assert len(simulator.uplinks(app_token=token_hash)) > 3 * PAGE_SIZE
    messages = _window_check(simulator, lambda: token.get_recent_messages(60), app_token=token_hash)
    assert [m.receive_time for m in messages] == sorted(m.receive_time for m in messages)
    truth = {r.uuid: r for r in simulator.uplinks(app_token=token_hash)}
    for message in messages[:50]:
        record = truth[message.uuid]
        assert message.payload_hex == record.payload_hex and message.gateway == record.gateway
        assert message.module == record.module


def test_time_range_and_account_and_net_token_subjects(account: ConductorAccount, simulator: Simulator) -> None:
    now = datetime.utcnow().replace(microsecond=0)  # whole seconds: the wire truncates to ms
    start = now - timedelta(minutes=20)
    stop = now - timedelta(minutes=5)
    messages = account.get_messages_time_range(start, stop)
    truth = {r.uuid for r in simulator.uplinks() if start <= r.time.replace(tzinfo=None) <= stop}
    assert {m.uuid for m in messages} == truth
    net = account.get_network_tokens()[0]
    assert isinstance(net, NetToken) and net.subject_id == "4f50454e"
    assert {m.uuid for m in net.get_messages_time_range(start, stop)} == {
        r.uuid for r in simulator.uplinks() if r.network_token == "4f50454e" and start <= r.time.replace(tzinfo=None) <= stop
    }


def test_last_messages(account: ConductorAccount, simulator: Simulator) -> None:
    token = account.get_application_token(simulator.app_tokens[0])
    last = token.get_last_messages(5)
    truth = [r.uuid for r in simulator.uplinks(app_token=simulator.app_tokens[0], visible_only=True)]
    assert len(last) == 5 and {m.uuid for m in last} <= set(truth)


def test_module_messages_port_and_signal(account: ConductorAccount, simulator: Simulator) -> None:
    address = _always_module(simulator)
    module = account.get_module(address)
    messages = _window_check(simulator, lambda: module.get_recent_messages(60), module=address)
    assert messages
    ports = {r.uuid: r.port for r in simulator.uplinks(module=address)}
    for message in messages:
        assert message.port == ports[message.uuid]  # COMPAT: 1.6.4 reads value.port
        data = message.signal_data
        assert 7 <= data.spreading_factor <= 12 and data.rssi < 0 and data.frequency > 900_000_000
        assert repr(message)
        assert message.gateway.subject_id.startswith("$101$")


def test_lte_module_messages(account: ConductorAccount, simulator: Simulator) -> None:
    address = next(m.address for m in simulator.config.modules if m.is_lte)
    module = account.get_module(address)
    assert isinstance(module, LTEmModule) and module.imei
    messages = module.get_recent_messages(60)  # subject "lte": COMPAT alias of node
    assert messages and {m.uuid for m in messages} <= {r.uuid for r in simulator.uplinks(module=address)}
    assert messages[0].signal_data.imei == module.imei


def test_app_token_multicast(account: ConductorAccount, simulator: Simulator) -> None:
    token_hash = simulator.app_tokens[0]
    token = account.get_application_token(token_hash)
    message = token.send_message(bytes.fromhex("0000002A"), port=5)
    assert message.issuance_time is not None
    message.wait_for_success()
    assert message.is_complete()
    record = simulator.command(message.issuance_id)
    assert record.kind == "app_token_multicast" and record.port == 5 and record.payload_hex == "0000002A"
    expected = {m.address for m in simulator.config.modules_with_mode(DownlinkMode.ALWAYS, token_hash)}
    assert record.delivered_modules == expected
    with pytest.raises(ValueError, match="cannot be acknowledged"):
        token.send_message(b"\x01", acked=True)


def test_app_token_multicast_through_gateway(account: ConductorAccount, simulator: Simulator) -> None:
    token_hash = simulator.app_tokens[0]
    token = account.get_application_token(token_hash)
    gateway = account.get_gateways()[0]
    message = token.send_message(b"\x07\x08", gateway_addrs=[gateway])  # always a list (1.6.4 iterates it)
    routes = message.get_routes()
    assert routes == [f"{token.node_address}!101!{gateway.subject_id}"]
    message.wait_for_success()
    events = message.get_events()
    assert [state for state, _ in events[routes[0]]] == ["Issued", "Submitting", "Submitted", "Sending", "Sent"]
    record = simulator.command(message.issuance_id)
    expected = {
        m.address
        for m in simulator.config.modules_with_mode(DownlinkMode.ALWAYS, token_hash)
        if gateway.subject_id in m.gateways
    }
    assert record.kind == "gateway_multicast" and record.delivered_modules == expected


def test_module_unicast(account: ConductorAccount, simulator: Simulator) -> None:
    address = _always_module(simulator)
    module = account.get_module(address)
    routes = module.get_routes()
    assert routes and all(r.startswith(address + "!101!") for r in routes)
    message = module.send_message(bytes.fromhex("0102030405"), port=12)
    message.wait_for_success()
    assert message.get_status() == "Acknowledged"
    record = simulator.command(message.issuance_id)
    assert record.kind == "unicast" and record.acked and record.delivered_modules == {address}
    gateway = record.routes[0].split("!")[-1]
    pinned = module.send_message(b"\x09", gateway_addr=gateway)
    pinned.wait_for_success()
    assert simulator.command(pinned.issuance_id).kind == "unicast_pinned"
    with pytest.raises(ValueError):
        module.send_message(b"\x01", port=129)


def test_downlink_status_pending_failure_and_cancel(account: ConductorAccount, simulator: Simulator) -> None:
    mailbox = next(m.address for m in simulator.config.modules_with_mode(DownlinkMode.MAILBOX) if not m.is_lte)
    module = account.get_module(mailbox)
    doomed = module.send_message(b"\x01", time_to_live_s=0.5)
    assert doomed.is_complete() is False  # Pending
    cancelled = module.send_message(b"\x02", time_to_live_s=300)
    assert cancelled.cancel() is True
    assert cancelled.get_status() == "Cancelled"
    import time

    time.sleep(0.7)
    with pytest.raises(DownlinkMessageError):
        doomed.is_complete()
    assert simulator.command(doomed.issuance_id).status == "Expired"


def test_gateway_broadcast(account: ConductorAccount, simulator: Simulator) -> None:
    gateway = account.get_gateway(simulator.config.gateways[0].address)
    message = gateway.send_broadcast(b"\xbb")
    message.wait_for_success()
    record = simulator.command(message.issuance_id)
    assert record.kind == "gateway_broadcast"
    assert record.delivered_modules == {
        m.address for m in simulator.config.modules_with_mode(DownlinkMode.ALWAYS) if gateway.subject_id in m.gateways
    }


def test_modules_and_gateways(account: ConductorAccount, simulator: Simulator) -> None:
    modules = account.get_modules()
    config = {m.address: m for m in simulator.config.modules}
    assert {m.subject_id for m in modules} == set(config)
    for module in modules:
        expected = config[module.subject_id]
        assert isinstance(module, LTEmModule) == expected.is_lte and isinstance(module, Module)
        assert module.downlink_mode == Module.DownlinkMode(int(expected.downlink_mode))
        assert module.application_token.subject_id == expected.app_token
        assert module.gateway.subject_id == expected.gateways[0]
        assert module.module_firmware_version is not None and module.registration_time is not None
    gateways = account.get_gateways()
    assert [g.subject_id for g in gateways] == [g.address for g in simulator.config.gateways]
    assert all(isinstance(g, Gateway) for g in gateways)
    gateway = account.get_gateway(gateways[0].subject_id)
    assert gateway._data["registrationToken"] == "4f50454e"  # noqa: SLF001


def test_past_downlinks(account: ConductorAccount, simulator: Simulator) -> None:
    address = _always_module(simulator)
    module = account.get_module(address)
    start = datetime.utcnow() - timedelta(minutes=5)
    sent = module.send_message(b"\x11")
    history = module.query_downlink(start)
    assert [m.issuance_id for m in history] == [sent.issuance_id]
    lte = account.get_module(next(m.address for m in simulator.config.modules if m.is_lte))
    assert lte.query_downlink(start) == []  # /commands/lte/...: COMPAT alias
    token = account.get_application_token(simulator.app_tokens[0])
    multicast = token.send_message(b"\x12")
    with pytest.raises(AttributeError):
        token.query_downlink(start)  # a 1.6.4 defect; the endpoint itself works:
    url = f"{token.client_edge_url}/commands/node/{token.node_address}/{_fmt(datetime.utcnow())}/{_fmt(start)}"
    assert [c["issuanceId"] for c in token._get(url)] == [multicast.issuance_id]  # noqa: SLF001


def test_value_port_and_port_number_both_served(account: ConductorAccount, simulator: Simulator) -> None:
    token = account.get_application_token(simulator.app_tokens[1])
    for message in token.get_last_messages(10):
        value = message._data["value"]  # noqa: SLF001
        assert value["portNumber"] == value["port"] and isinstance(value["port"], str)


def _fmt(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
