"""The daemon binds its admin sockets itself (daemon._listen): every address the host resolves
to, IPv4 first, so that "localhost" answers on 127.0.0.1 (the container's health check) even
where it resolves to ::1 first; clear errors for a port in use and a host that does not resolve."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from rules_engine.daemon import _listen
from rules_engine.errors import ConfigError


def _ipv6_loopback() -> bool:
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6):
            return True
    except OSError:
        return False


def _resolving(*addresses: tuple[socket.AddressFamily, str]) -> Any:
    """A resolver that answers like glibc with ``::1 localhost`` before ``127.0.0.1 localhost``."""
    return lambda host, port, **_kw: [(family, socket.SOCK_STREAM, 6, "", (address, port)) for family, address in addresses]


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def test_a_name_is_bound_on_every_address_ipv4_first() -> None:
    addresses = [(socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1")] if _ipv6_loopback() else [(socket.AF_INET, "127.0.0.1")]
    port = _free_port()
    sockets = _listen("localhost", port, _resolving(*addresses))
    try:
        assert [s.getsockname()[0] for s in sockets] == [address for _family, address in reversed(addresses)]
        assert {s.getsockname()[1] for s in sockets} == {port}
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        for s in sockets:
            s.close()


def test_port_zero_binds_the_first_ipv4_address_on_a_free_port() -> None:
    sockets = _listen("localhost", 0, _resolving((socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1")))
    try:
        assert len(sockets) == 1 and sockets[0].getsockname()[0] == "127.0.0.1" and sockets[0].getsockname()[1] > 0
    finally:
        sockets[0].close()


def test_an_address_the_machine_does_not_have_is_skipped_unless_it_is_the_only_one() -> None:
    port = _free_port()
    sockets = _listen("host", port, _resolving((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "192.0.2.1")))  # TEST-NET
    try:
        assert [s.getsockname()[0] for s in sockets] == ["127.0.0.1"]
    finally:
        for s in sockets:
            s.close()
    with pytest.raises(ConfigError, match=r"admin HTTP cannot listen on host:\d+: .*Check admin.host"):
        _listen("host", port, _resolving((socket.AF_INET, "192.0.2.1"),))


def test_a_port_in_use_and_an_unknown_host_are_clear_errors() -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"cannot listen on 127.0.0.1:{port}: Address already in use\. If another process holds"):
            _listen("127.0.0.1", port)
    def unknown(host: str, port: int, **_kw: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(ConfigError, match=r"cannot resolve 'no-such-host.invalid' \(Name or service not known\)\. Check admin.host"):
        _listen("no-such-host.invalid", 1, unknown)
