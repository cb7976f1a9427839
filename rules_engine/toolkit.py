"""The toolkit: everything rules are compiled with, built once from the config and the plugins.

It is the one place that knows how the plugin registries, the JsonLogic compiler, the payload
codec and the decoder configuration fit together; the rule loader, the tester, replay and the
engine all take a :class:`Toolkit` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from .actions import OptionError
from .codec import CodecSpecError, compile_payload
from .conditions import OperatorRegistry, lint_condition
from .config import EngineConfig
from .errors import ConfigError, PluginError
from .models import DecodedUplink, Event, Uplink
from .pipeline.decode import Decoding
from .plugins import Registries, create_plugin_manager, load_registries, plugins_dir_problem
from .rules.diagnostics import did_you_mean

__all__ = ["Toolkit", "ConstantPayload", "explain_payload"]

_SCOPED = {"map", "filter", "reduce", "all", "some", "none"}


def _var_paths(node: Any, where: tuple[str | int, ...] = ()) -> Iterable[tuple[str, tuple[str | int, ...]]]:
    """Each constant ``var`` path with where it is in ``node`` (the path to the path's text)."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _var_paths(item, where + (index,))
        return
    if not isinstance(node, dict) or len(node) != 1:
        return
    ((operator, argument),) = node.items()
    if operator == "var":
        listed = isinstance(argument, list) and bool(argument)
        path = argument[0] if listed else argument
        if isinstance(path, str) and path:
            yield path, where + (("var", 0) if listed else ("var",))
        return
    if operator in _SCOPED and isinstance(argument, list):
        yield from _var_paths(argument[:1], where + (operator,))
        return
    yield from _var_paths(argument, where + (operator,))


@dataclass(frozen=True)
class ConstantPayload:
    """A payload given as a hex string in the rule."""

    data: bytes

    def build(self, _context: dict[str, Any]) -> bytes:
        return self.data

    def describe(self, _context: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"name": "payload", "type": "hex", "value": self.data.hex().upper(), "hex": self.data.hex().upper()}]


def explain_payload(builder: Any, context: dict[str, Any]) -> list[dict[str, Any]]:
    """Field by field, what a payload builder packed (JSON-serialisable, for traces and plans)."""
    description = builder.describe(context)
    if isinstance(description, list):
        return description
    return [
        {"name": f.name or f"fields[{f.index}]", "type": f.type, "value": f.value, "hex": f.hex}
        for f in description.fields
    ]


def _declared_fields(decoder: Any) -> frozenset[str] | None:
    """The fields a decoder promises, when it promises that they are all there is."""
    fields = getattr(decoder, "fields", None)
    if not fields or not getattr(decoder, "exhaustive", True):
        return None
    return frozenset(fields)


class Toolkit:
    def __init__(self, config: EngineConfig, registries: Registries) -> None:
        self.config = config
        self.registries = registries
        self.operators = OperatorRegistry()
        for operator in registries.operators.values():
            self.operators.add(operator)
        self.operators.freeze()
        self.field_types = registries.field_type_registry
        self.decoders: dict[str, Any] = {}
        self._decoder_fields: dict[str, frozenset[str] | None] = {}
        self._build_decoders()
        self.decoding = Decoding(config, self.decoders)
        self._check_token_decoders()

    @classmethod
    def create(
        cls,
        config: EngineConfig | None = None,
        *,
        plugins_dir: str | Path | None = None,
        entry_points: bool = True,
        extra_plugins: Iterable[tuple[str, object]] = (),
    ) -> Toolkit:
        config = config or EngineConfig()
        problem = plugins_dir_problem(config.plugins_dir) if plugins_dir is None and config.plugins_dir is not None else None
        if problem:  # located at the config's line
            raise PluginError(f"{config.where('plugins_dir')}plugins_dir: {problem}")
        manager = create_plugin_manager(plugins_dir or config.plugins_dir, entry_points=entry_points, extra=extra_plugins)
        return cls(config, load_registries(manager))

    def _build_decoders(self) -> None:
        types = self.registries.decoders
        for name, decoder_type in types.items():
            if decoder_type.options is None:
                self.decoders[name] = decoder_type.build(None)
                self._decoder_fields[name] = _declared_fields(self.decoders[name])
        for name, spec in self.config.decoders.items():
            type_name = spec["type"]
            decoder_type = types.get(type_name)
            if decoder_type is None:
                raise ConfigError(
                    f"{self.config.where('decoders', name, 'type')}decoders.{name}: unknown decoder type "
                    f"'{type_name}'{did_you_mean(type_name, types)}; known types: {', '.join(sorted(types))}"
                )
            options = {key: value for key, value in spec.items() if key != "type"}
            try:
                decoder = decoder_type.build(options if decoder_type.options is not None else (options or None))
            except CodecSpecError as exc:
                raise ConfigError(f"{self.config.where('decoders', name)}decoders.{name}: {exc}") from exc
            self.decoders[name] = decoder
            self._decoder_fields[name] = _declared_fields(decoder)

    def _check_token_decoders(self) -> None:
        unknown = []
        for alias, token in self.config.app_tokens.items():
            for path, name in [(("decoder",), token.decoder), *((("ports", str(p)), n) for p, n in token.ports.items())]:
                if name is not None and name not in self.decoders:
                    unknown.append(
                        f"{self.config.where('app_tokens', alias, *path)}app_tokens.{alias}.{'.'.join(map(str, path))}: "
                        f"unknown decoder '{name}'{did_you_mean(name, self.decoders)}"
                    )
        if unknown:
            raise ConfigError("\n".join(unknown) + f"\ndefine each under 'decoders:' or use one of {', '.join(sorted(self.decoders))}")

    # -- compilers ---------------------------------------------------------------------------

    def compile_expr(self, expression: Any) -> Callable[[dict[str, Any]], Any]:
        from .conditions import compile_condition

        return compile_condition(expression, operators=self.operators)

    def compile_payload(self, spec: Any) -> Any:
        """A payload builder from a hex string or a list of payload fields."""
        if isinstance(spec, str):
            text = spec.replace(" ", "")
            try:
                data = bytes.fromhex(text)
            except ValueError:
                raise OptionError("payload", f"payload must be hex (e.g. '0102A0') or a list of fields, got {spec!r}") from None
            if not data:
                raise OptionError("payload", "payload is empty")
            return ConstantPayload(data)
        try:
            return compile_payload({"fields": spec}, self.field_types, self.compile_expr)
        except CodecSpecError as exc:
            field = ("payload", exc.index) if exc.index is not None else ("payload",)
            raise OptionError(field, f"payload {exc}") from exc

    def lint(self, condition: Any, decoded_fields: frozenset[str] | None) -> list[Any]:
        known = {"decoded": decoded_fields} if decoded_fields else None
        return lint_condition(condition, known)

    @staticmethod
    def var_paths(condition: Any) -> tuple[str, ...]:
        """Constant ``var`` paths read from the context (not those inside ``some``/``map``... scopes)."""
        return tuple(Toolkit.var_locations(condition))

    @staticmethod
    def var_locations(condition: Any) -> dict[str, tuple[str | int, ...]]:
        """:meth:`var_paths`, each with where it first appears in ``condition`` (a data path)."""
        found: dict[str, tuple[str | int, ...]] = {}
        for path, where in _var_paths(condition):
            found.setdefault(path, where)
        return found

    # -- decoders ----------------------------------------------------------------------------

    def decoder_fields(self, name: str) -> frozenset[str] | None:
        return self._decoder_fields.get(name)

    def known_decoded_fields(self, app_tokens: frozenset[str] | None) -> frozenset[str] | None:
        """The decoded fields a rule on these tokens can see, when every decoder declares them."""
        names: set[str | None] = set()
        for token in self.config.app_tokens.values():
            if app_tokens is None or token.token in app_tokens:
                names.add(token.decoder)
                names.update(token.ports.values())
        if not names or None in names:
            return None
        fields: set[str] = set()
        for name in names:
            declared = self._decoder_fields.get(name)  # type: ignore[arg-type]
            if declared is None:
                return None
            fields |= declared
        return frozenset(fields)

    def decode(self, uplink: Uplink) -> DecodedUplink:
        return self.decoding.decode(uplink)

    def redecode(self, rule: Any, event: Event) -> dict[str, Any]:
        """The decoded fields for a rule that names its own decoder (errors give ``{}``)."""
        decoded, _error = self.decoding.run(rule.spec.decoder, event.item.uplink.payload)
        return decoded


