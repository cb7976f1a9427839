"""Decode stage: pick a decoder per uplink (AppToken port map, then the token's default) and
run it. A decoder error is recorded on the uplink, never raised."""

from __future__ import annotations

import logging
from typing import Any, Callable, Protocol

from ..hotpath import trusted
from ..config import EngineConfig
from ..models import DecodedUplink, Uplink

__all__ = ["Decoding", "DecoderLike", "decoded_uplink"]

log = logging.getLogger("rules_engine.decode")

_DECODED_FIELDS = set(DecodedUplink.model_fields)

#: ``(alias, decoder name, its bound decode or None)`` of an ``(app token, port)``
_Route = tuple[str | None, str | None, Callable[[bytes], Any] | None]


class DecoderLike(Protocol):
    def decode(self, payload: bytes) -> dict[str, Any]: ...


class Decoding:
    """Decoders by name; ``decoders`` is read when an ``(app token, port)`` is first seen, and the
    ``decode`` of its decoder kept for the next uplinks."""

    def __init__(self, config: EngineConfig, decoders: dict[str, DecoderLike]) -> None:
        self.decoders = decoders
        self._by_token: dict[str, tuple[str | None, str | None, dict[int, str]]] = {
            cfg.token: (alias, cfg.decoder, dict(cfg.ports)) for alias, cfg in config.app_tokens.items()
        }
        self._routes: dict[tuple[str | None, int | None], _Route] = {}

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
            return {}, _failure(name, exc)
        if not isinstance(decoded, dict):
            return {}, _not_a_mapping(name, decoded)
        return decoded, None

    def decode(self, uplink: Uplink) -> DecodedUplink:
        return decoded_uplink(self.decode_fields(uplink))

    def decode_fields(self, uplink: Uplink) -> dict[str, Any]:
        """The field values of the :class:`DecodedUplink` that :meth:`decode` returns. The engine
        passes these along and wraps them in a model (:func:`decoded_uplink`) only where one is
        needed: most uplinks need none."""
        # ``run`` inlined: this is called once per uplink. The fields are read from the model's
        # ``__dict__``, one attribute read instead of three (see ledger/records.py).
        fields = uplink.__dict__
        route = self._routes.get((fields["app_token"], fields["port"]))
        if route is None:
            route = self._route(uplink)
        alias, name, decode = route
        error = None
        if decode is None:
            decoded, error = self.run(name, fields["payload"])  # no decoder, or a name without one
        else:
            try:
                decoded = decode(fields["payload"])
            except Exception as exc:  # a plugin decoder that raises must not stop the engine
                decoded, error = {}, _failure(name or "", exc)
            else:
                if not isinstance(decoded, dict):
                    decoded, error = {}, _not_a_mapping(name or "", decoded)
        if error:
            log.info("decode failed", extra={"uplink_uuid": uplink.uuid, "decoder": name, "error": error})
        return {"uplink": uplink, "app_token_alias": alias, "decoder": name, "decoded": decoded, "decode_error": error}

    def _route(self, uplink: Uplink) -> _Route:
        alias, name = self.decoder_name(uplink)
        try:
            decode = self.decoders[name].decode if name is not None else None
        except Exception:  # no such decoder, or no decode: ``run`` records why, uplink by uplink
            decode = None
        route = (alias, name, decode)
        if len(self._routes) < 10_000:
            self._routes[(uplink.app_token, uplink.port)] = route
        return route


def decoded_uplink(fields: dict[str, Any]) -> DecodedUplink:
    """The model over field values from :meth:`Decoding.decode_fields`, sharing the dict."""
    return trusted(DecodedUplink, fields, _DECODED_FIELDS)


def _failure(name: str, exc: Exception) -> str:
    return f"{name}: {type(exc).__name__}: {exc}" if not str(exc).startswith(name) else str(exc)


def _not_a_mapping(name: str, decoded: Any) -> str:
    return f"{name}: the decoder returned {type(decoded).__name__}, not a mapping"
