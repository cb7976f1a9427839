"""Wire shapes (conductor-api.md §3.4, §3.5, §4.3, §5, §10) built from simulator state."""

from __future__ import annotations

from typing import Any

from rules_engine.simulator import _invented as inv
from rules_engine.simulator._timeutil import fmt_ms
from rules_engine.simulator.downlinks import Command, Route
from rules_engine.simulator.fleet import Fleet
from rules_engine.simulator.store import Uplink
from rules_engine.simulator.uplinks import UplinkFactory

__all__ = [
    "uplink_result",
    "account_object",
    "app_token_object",
    "network_token_object",
    "gateway_object",
    "module_object",
    "command_object",
    "status_detail",
]


def uplink_result(fleet: Fleet, factory: UplinkFactory, record: Uplink, base: str) -> dict[str, Any]:
    ce = f"{base}/clientEdge"
    module = fleet.module_addresses[record.module]
    gateway_cfg = fleet.gateways[record.gateway]
    gateway = gateway_cfg.address
    time = fmt_ms(record.time_ms)
    port = str(record.port)
    t_write = record.visible_ms
    t_ingest = max(record.time_ms, t_write - inv.INGEST_TO_WRITE_MS)
    signal = factory.signal(record, module, gateway)
    value: dict[str, Any] = {
        "module": module,
        "linkType": inv.LINK_TYPE,
        "gateway": gateway,
        "linkAddress": f"{module}!101!{gateway}",
        "startReceiveTime": time,
        "messageSequence": None,
        "portNumber": port,
    }
    if inv.EMIT_VALUE_PORT:
        value["port"] = port  # COMPAT: 1.6.4 reads value.port
    value["pld"] = record.pld.hex().upper()
    value["avgSignalMetadata"] = signal
    links = (
        [{"href": f"{ce}/data/avgSignalMetadata/event/{record.uuid}/{time}", "desc": "avgSigMeta"}] if signal else []
    )
    return {
        "eventUrl": {"href": f"{ce}/data/uplinkPayload/event/{record.uuid}/{time}"},
        "uuid": record.uuid,
        "time": time,
        "type": "uplinkPayload",
        "metadata": {
            "tags": [],
            "props": {
                "app_tok": fleet.tokens[fleet.module_token[record.module]].hash,
                "net_tok": gateway_cfg.network_token,
                "acctId": fleet.account.id,
                "t_ingest": str(t_ingest),
                "t_write": str(t_write),
                "t_expire": str(record.time_ms // 1000 + inv.RETENTION_S),
            },
        },
        "links": links,
        "value": value,
    }


def _owners(fleet: Fleet) -> dict[str, Any]:
    return {"owners": [{"href": f"account/{fleet.account.id}", "desc": ""}]}


def account_object(fleet: Fleet, base: str) -> dict[str, Any]:
    return {"self": {"href": f"{base}/access/account/{fleet.account.id}"}, "id": fleet.account.id, "name": fleet.account.name}


def _asset_info(fleet: Fleet, props: dict[str, str]) -> dict[str, Any]:
    return {"accessors": _owners(fleet), "metadata": {"tags": [], "props": props}, "enabled": True}


def app_token_object(fleet: Fleet, index: int, base: str) -> dict[str, Any]:
    token = fleet.tokens[index]
    return {
        "self": {"href": f"{base}/networkAsset/applicationToken/{token.hash}"},
        "hash": token.hash,
        "tokenName": token.name,
        "assetInfo": _asset_info(fleet, {}),
    }


def network_token_object(fleet: Fleet, index: int, base: str) -> dict[str, Any]:
    token = fleet.net_tokens[index]
    return {
        "self": {"href": f"{base}/networkAsset/networkToken/{token.hash}"},
        "hash": token.hash,
        "tokenName": token.name,
        "assetInfo": _asset_info(fleet, {}),
    }


def gateway_object(fleet: Fleet, index: int, base: str) -> dict[str, Any]:
    gateway = fleet.gateways[index]
    start = fmt_ms(int(fleet.start.timestamp() * 1000))
    return {
        "self": {"href": f"{base}/networkAsset/gateway/{gateway.address}"},
        "nodeAddress": gateway.address,
        "nodeName": gateway.name,
        "registrationToken": gateway.network_token,
        "initialDetectionTime": start,
        "registrationTime": start,
        "gatewayConfig": {"gateway_release_version": inv.GATEWAY_RELEASE_VERSION},  # COMPAT (presence UNCONFIRMED)
        "assetInfo": _asset_info(fleet, {"gatewayName": gateway.name, "lastModified": start}),
    }


def module_object(fleet: Fleet, factory: UplinkFactory, m: int, base: str) -> dict[str, Any]:
    address = fleet.module_addresses[m]
    config = fleet.config.modules[m]
    start_ms = int(fleet.start.timestamp() * 1000)
    start = fmt_ms(start_ms)
    props = {
        "downlinkMode": str(fleet.module_mode[m]),
        "downlinkMulticastCount": str(fleet.multicast_count.get(m, 0)),
        "downlinkUnicastCount": str(fleet.unicast_count.get(m, 0)),
        "registeredByGateway": fleet.gateways[fleet.module_gateways[m][0]].address,
        "firmware_version": inv.MODULE_FIRMWARE_VERSION,
        "lastModified": fmt_ms(fleet.last_modified_ms.get(m, start_ms)),
    }
    if m in fleet.mailbox_request_ms:
        props["mailboxRequestTime"] = fmt_ms(fleet.mailbox_request_ms[m])
    if fleet.module_lte[m]:
        props.update({"imei": factory.imei(m), "iccid": factory.iccid(m), "lteProvStatus": "ACTIVATED"})
    return {
        "self": {"href": f"{base}/networkAsset/module/{address}"},
        "nodeAddress": address,
        "nodeName": config.name,
        "registrationToken": fleet.tokens[fleet.module_token[m]].hash,
        "initialDetectionTime": start,
        "registrationTime": start,
        "assetInfo": _asset_info(fleet, props),
    }


def command_object(command: Command, base: str) -> dict[str, Any]:
    """The issued-command object: the request as accepted plus issuanceId/Time and routes."""
    return {
        "issuanceId": command.issuance_id,
        "issuanceTime": fmt_ms(command.issued_ms),
        **command.plan.echo,
        "routeAssignments": [{"assignedLink": r.link} for r in command.routes],
    }


def status_detail(route: Route, now_ms: int) -> dict[str, Any]:
    events = sorted((e for e in route.events if e[1] <= now_ms), key=lambda e: e[1])
    return {
        "routeAssignment": {"assignedLink": route.link},
        "downlinkEvents": [{"state": state, "stateTime": fmt_ms(t)} for state, t in events],
    }
