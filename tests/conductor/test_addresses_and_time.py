from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rules_engine.conductor import NodeType, app_token_node_address, format_time, link_address, node_type, parse_time


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("$101$0-0-0-db935317c", NodeType.GATEWAY),
        ("$301$0-0-0-030001665", NodeType.SYMPHONY_MODULE),
        ("$303$0-0-0001450-2bf65e93d", NodeType.LTEM_MODULE),
        ("$401$1bcda4a2-e8c1af83-0-00000d330", NodeType.APP_TOKEN),
        ("$1FF$0-0-0-000000001", NodeType.VIRTUAL_GATEWAY_IOS),
        ("%24301%240-0-0-030001665", NodeType.SYMPHONY_MODULE),
        ("$301$0-0-0-030001665!101!$101$0-0-0-db935317c", NodeType.SYMPHONY_MODULE),
        ("$999$0-0-0-1", NodeType.UNKNOWN),
        ("not an address", NodeType.UNKNOWN),
    ],
)
def test_node_type(address: str, expected: NodeType) -> None:
    assert node_type(address) is expected


def test_module_and_gateway_predicates() -> None:
    assert NodeType.LTEM_MODULE.is_module and not NodeType.LTEM_MODULE.is_gateway
    assert NodeType.GATEWAY.is_gateway and not NodeType.GATEWAY.is_module


def test_app_token_node_address_matches_library_docstring() -> None:
    assert app_token_node_address("1bcda4a2e8c1af83d330") == "$401$1bcda4a2-e8c1af83-0-00000d330"
    assert app_token_node_address("9a3e51c07b22d4f68e15") == "$401$9a3e51c0-7b22d4f6-0-000008e15"


def test_app_token_node_address_rejects_non_tokens() -> None:
    with pytest.raises(ValueError, match="20 hex"):
        app_token_node_address("4f50454e")


def test_link_address() -> None:
    assert link_address("$301$0-0-0-1", "$101$0-0-0-2") == "$301$0-0-0-1!101!$101$0-0-0-2"


def test_format_time_truncates_to_milliseconds_in_utc() -> None:
    zoned = datetime(2024, 3, 11, 16, 2, 17, 512999, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(zoned) == "2024-03-11T14:02:17.512"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-05-01T21:54:46.290", datetime(2018, 5, 1, 21, 54, 46, 290000, tzinfo=timezone.utc)),
        ("2018-05-03T00:00:00", datetime(2018, 5, 3, tzinfo=timezone.utc)),
        ("2018-05-05T14:17:03Z", datetime(2018, 5, 5, 14, 17, 3, tzinfo=timezone.utc)),
        ("2018-05-05T16:17:03+02:00", datetime(2018, 5, 5, 14, 17, 3, tzinfo=timezone.utc)),
        ("2018-05-05T14:17:03.1234567", datetime(2018, 5, 5, 14, 17, 3, 123456, tzinfo=timezone.utc)),
    ],
)
def test_parse_time_is_lenient_and_always_aware_utc(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected
    assert parse_time(text).tzinfo is not None


def test_parse_time_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_time("yesterday")
