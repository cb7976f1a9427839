"""Decode stage: pick a decoder per uplink (AppToken port map, then the token's default) and
run it. A decoder error is recorded on the uplink, never raised."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from ..hotpath import trusted
from ..config import EngineConfig
from ..models import DecodedUplink, Uplink

__all__ = ["Decoding", "DecoderLike"]

log = logging.getLogger("rules_engine.decode")


class DecoderLike(Protocol):
    def decode(self, payload: bytes) -> dict[str, Any]: ...


class Decoding:
    def __init__(self, config: EngineConfig, decoders: dict[str, DecoderLike]) -> None:
        self.decoders = decoders
        self._by_token: dict[str, tuple[str | None, str | None, dict[int, str]]] = {
            cfg.token: (alias, cfg.decoder, dict(cfg.ports)) for alias, cfg in config.app_tokens.items()
        }
        self._routes: dict[tuple[str | None, int | None], tuple[str | None, str | None]] = {}

    def decoder_name(self, uplink: Uplink) -> tuple[str | None, str | None]:
        """``(alias, decoder name)`` for an uplink; the port map wins over the token default."""
        alias, default, ports = self._by_token.get(uplink.app_token or "", (None, None, {}))
        if uplink.port is not None and uplink.port in ports:
            return alias, ports[uplink.port]
        return alias, default

    def run(self, name: str | None, payload: bytes) -> tuple[dict[str, Any], str | None]:
        if name is None:
            return {}, None
        try:
            decoded = self.decoders[name].decode(payload)
        except Exception as exc:  # a plugin decoder that raises must not stop the engine
            return {}, f"{name}: {type(exc).__name__}: {exc}" if not str(exc).startswith(name) else str(exc)
        if not isinstance(decoded, dict):
            return {}, f"{name}: the decoder returned {type(decoded).__name__}, not a mapping"
        return decoded, None

    def decode(self, uplink: Uplink) -> DecodedUplink:
        route = self._routes.get((uplink.app_token, uplink.port))
        if route is None:
            route = self.decoder_name(uplink)
            if len(self._routes) < 10_000:
                self._routes[(uplink.app_token, uplink.port)] = route
        alias, name = route
        decoded, error = self.run(name, uplink.payload)
        if error:
            log.info("decode failed", extra={"uplink_uuid": uplink.uuid, "decoder": name, "error": error})
        return trusted(DecodedUplink, {"uplink": uplink, "app_token_alias": alias, "decoder": name, "decoded": decoded,
                                       "decode_error": error})
