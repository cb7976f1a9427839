"""Engine configuration: one YAML file, secrets only from the environment or an owner-only file.

    conductor:
      base_url: https://conductor.link-labs.com       # or the three URLs, or the simulator origin
      username: ops@example.com
      password_env: CONDUCTOR_PASSWORD                # or password_file: /etc/rules-engine/password (mode 0600)
    app_tokens:
      plant: {token: 9a3e51c07b22d4f68e15, decoder: sensor, ports: {7: ack}}
    decoders:
      sensor: {type: struct, fields: [...]}
    groups:
      north-wing: ["$301$0-0-0-0300a1b2c"]
    rules: [rules/]
    plugins_dir: plugins/
"""

from __future__ import annotations

import os
from datetime import timedelta
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator

from .conductor.addresses import is_app_token, node_type
from .durations import Duration, format_duration
from .errors import ConfigError, RuleError
from .rules.diagnostics import LocatedValueError, problems_from_validation
from .rules.source import load_yaml

__all__ = [
    "EngineConfig",
    "ConductorSettings",
    "AppTokenConfig",
    "LedgerConfig",
    "RetentionConfig",
    "AdminConfig",
    "LoggingConfig",
    "DispatchConfig",
    "load_config",
    "read_secret",
    "admin_token",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConductorSettings(_Strict):
    """Where Conductor is and how to log in. The password never lives in this file."""

    base_url: str | None = None
    client_edge_url: str | None = None
    network_asset_url: str | None = None
    access_url: str | None = None
    username: str = ""
    password_env: str | None = "CONDUCTOR_PASSWORD"
    password_file: Path | None = None
    account_name: str | None = None
    timeout: Duration = timedelta(seconds=30)

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secret(cls, value: Any) -> Any:
        if isinstance(value, dict) and "password" in value:
            raise ValueError(
                "do not put the password in the config file: set 'password_env' to the name of an "
                "environment variable that holds it, or 'password_file' to a file only its owner can read"
            )
        return value

    def urls(self) -> Any:
        """The three base URLs: ``base_url`` as one origin (the simulator), the explicit ones, or
        the production defaults."""
        from .conductor import ConductorURLs

        defaults = ConductorURLs.single_origin(self.base_url) if self.base_url else ConductorURLs.production()
        return ConductorURLs(
            self.client_edge_url or defaults.client_edge,
            self.network_asset_url or defaults.network_asset,
            self.access_url or defaults.access,
        )

    def password(self, environ: dict[str, str] | None = None) -> SecretStr:
        """The password, from ``password_file`` (mode 0600 or stricter) or ``password_env``."""
        environ = dict(os.environ) if environ is None else environ
        if self.password_file is not None:
            return SecretStr(read_secret(self.password_file))
        if self.password_env and self.password_env in environ:
            return SecretStr(environ[self.password_env])
        raise ConfigError(
            f"no Conductor password: set the environment variable {self.password_env or 'CONDUCTOR_PASSWORD'} "
            "or 'conductor.password_file' (a file readable by its owner only)"
        )


def read_secret(path: Path) -> str:
    """Read a secret file, refusing one that group or others can read or write."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"cannot read the secret file {path}: {exc.strerror or exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} is accessible to group or others (mode {stat.S_IMODE(mode):04o}); "
            f"run 'chmod 600 {path}' so only its owner can read it"
        )
    return path.read_text(encoding="utf-8").strip()


class AppTokenConfig(_Strict):
    """One Application Token the engine polls, known to rules by its alias."""

    token: str
    decoder: str | None = None
    ports: dict[int, str] = Field(default_factory=dict)
    poll_interval: Duration = timedelta(seconds=10)
    #: How late Conductor may ingest an uplink: every uplink up to ``overlap`` late is still seen.
    overlap: Duration = timedelta(minutes=2)
    #: What every poll re-reads before the previous one's stop (ordinary ingest delay; default
    #: 10 s, or ``overlap`` when that is shorter)...
    recent_overlap: Duration = timedelta(seconds=10)
    #: ...and how often a poll re-reads the whole ``overlap`` instead (0: every poll does).
    sweep_interval: Duration = timedelta(minutes=1)

    @model_validator(mode="after")
    def _windows(self) -> AppTokenConfig:
        if self.poll_interval <= timedelta(0):
            raise ValueError("poll_interval must be positive, e.g. 10s")
        if self.recent_overlap < timedelta(0) or self.sweep_interval < timedelta(0):
            raise ValueError("recent_overlap and sweep_interval cannot be negative")
        if self.recent_overlap > self.overlap:
            if "recent_overlap" not in self.model_fields_set:
                return self.model_copy(update={"recent_overlap": self.overlap})
            raise ValueError(
                f"recent_overlap ({format_duration(self.recent_overlap)}) cannot exceed overlap "
                f"({format_duration(self.overlap)}): every poll re-reads recent_overlap, a sweep re-reads the whole "
                "overlap; lower recent_overlap or raise overlap"
            )
        return self

    @field_validator("ports")
    @classmethod
    def _ports(cls, ports: dict[int, str]) -> dict[int, str]:
        wrong = [port for port in ports if not 0 <= port <= 255]
        if wrong:
            others = f"; nor {'is' if len(wrong) == 2 else 'are'} {', '.join(map(str, wrong[1:]))}" if len(wrong) > 1 else ""
            raise LocatedValueError(f"not a Conductor port (ports are 0 to 255){others}", (str(wrong[0]), "[key]"))
        return ports

    @field_validator("token")
    @classmethod
    def _token(cls, value: str) -> str:
        if not is_app_token(value):
            raise ValueError(f"an application token is 20 hex characters, got {value!r}")
        return value.lower()


class RetentionConfig(_Strict):
    """How long the ledger keeps what it no longer needs. Pending work is never deleted."""

    uplinks: Duration = timedelta(days=30)
    firings: Duration = timedelta(days=90)
    sends: Duration = timedelta(days=90)


class LedgerConfig(_Strict):
    path: Path = Path("state/ledger.db")
    synchronous: Literal["normal", "full"] = "normal"
    retention: RetentionConfig = Field(default_factory=RetentionConfig)


class AdminConfig(_Strict):
    """The admin HTTP server (/healthz, /metrics). Anything but loopback needs a token."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8780, ge=0, le=65535)
    token_env: str | None = "RULES_ENGINE_ADMIN_TOKEN"
    token_file: Path | None = None


def admin_token(config: AdminConfig, environ: dict[str, str] | None = None) -> str | None:
    """The admin token from ``token_file`` (owner-only) or ``token_env``; ``None`` if neither is set."""
    environ = dict(os.environ) if environ is None else environ
    if config.token_file is not None:
        return read_secret(config.token_file)
    if config.token_env and environ.get(config.token_env):
        return environ[config.token_env]
    return None


class DispatchConfig(_Strict):
    """How the outbox is sent (docs/operations.md, "Exactly once")."""

    max_attempts: int = Field(default=8, ge=1)
    concurrency: int = Field(default=8, ge=1, le=64)
    reconcile_after: Duration = timedelta(seconds=30)


class LoggingConfig(_Strict):
    format: Literal["text", "json"] = "text"
    level: Literal["debug", "info", "warning", "error"] = "info"


class EngineConfig(_Strict):
    conductor: ConductorSettings = Field(default_factory=ConductorSettings)
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    admin: AdminConfig = Field(default_factory=AdminConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    dispatch: DispatchConfig = Field(default_factory=DispatchConfig)
    silence_check_interval: Duration = timedelta(seconds=30)
    app_tokens: dict[str, AppTokenConfig] = Field(default_factory=dict)
    decoders: dict[str, dict[str, Any]] = Field(default_factory=dict)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    rules: list[Path] = Field(default_factory=list)
    plugins_dir: Path | None = None
    _source: Any = PrivateAttr(default=None)  # the SourceMap of the file it was loaded from

    @property
    def source_file(self) -> str | None:
        """The file this config was loaded from (``None`` for a config built in code)."""
        return self._source.file if self._source is not None else None

    def where(self, *path: str | int) -> str:
        """``"file:line:column: "`` of ``path`` in the file this config was loaded from (``""``
        for a config built in code), to start an error message about that key."""
        return f"{self._source.locate(path)}: " if self._source is not None else ""

    @field_validator("groups")
    @classmethod
    def _groups(cls, groups: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, members in groups.items():
            for member in members:
                if not node_type(member).is_module:
                    raise ValueError(f"group '{name}': {member!r} is not a module address ($301$..., $303$...)")
        return groups

    @field_validator("decoders")
    @classmethod
    def _decoder_types(cls, decoders: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, spec in decoders.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
                raise ValueError(f"decoder '{name}' needs a 'type' (hex, raw, utf8, json, struct or a plugin's)")
        return decoders

    @model_validator(mode="after")
    def _one_alias_per_token(self) -> EngineConfig:
        first: dict[str, str] = {}
        for alias, token in self.app_tokens.items():
            if token.token in first:
                raise LocatedValueError(
                    f"the same AppToken as '{first[token.token]}': each AppToken is polled once, under one alias; "
                    "remove one of the two aliases", ("app_tokens", alias, "token"))
            first[token.token] = alias
        return self

    @model_validator(mode="after")
    def _retention_keeps_the_overlap(self) -> EngineConfig:
        kept = self.ledger.retention.uplinks
        short = [(alias, token.overlap) for alias, token in self.app_tokens.items() if kept <= token.overlap]
        if short:
            retention_set = ("ledger" in self.model_fields_set and "retention" in self.ledger.model_fields_set
                             and "uplinks" in self.ledger.retention.model_fields_set)
            tokens = ", ".join(f"'{alias}' ({format_duration(overlap)})" for alias, overlap in short)
            why = ("each poll re-reads the overlap, and only the uplinks still kept are recognised as already "
                   "processed (the rest would fire again)")
            if retention_set:  # where the fix most likely is: the retention the file shortened...
                raise LocatedValueError(
                    f"{format_duration(kept)} must be longer than the overlap of AppToken{'s' if len(short) > 1 else ''} "
                    f"{tokens}: {why}. Keep uplinks for days, or lower the overlap", ("ledger", "retention", "uplinks"))
            alias, overlap = short[0]  # ...or else the overlap it raised
            others = f" (as must the overlap of {', '.join(repr(a) for a, _ in short[1:])})" if len(short) > 1 else ""
            raise LocatedValueError(
                f"{format_duration(overlap)} must be shorter than ledger.retention.uplinks ({format_duration(kept)}){others}: "
                f"{why}. Lower the overlap, or keep uplinks longer", ("app_tokens", alias, "overlap"))
        return self

    def resolve_app_token(self, name_or_hash: str) -> str:
        """The token hash for an alias, or the hash itself. Raises ``KeyError`` with a hint."""
        if name_or_hash in self.app_tokens:
            return self.app_tokens[name_or_hash].token
        if is_app_token(name_or_hash):
            return name_or_hash.lower()
        raise KeyError(name_or_hash)

    def alias_of(self, token: str) -> str | None:
        return next((alias for alias, cfg in self.app_tokens.items() if cfg.token == token.lower()), None)


def load_config(path: str | Path) -> EngineConfig:
    """Load and validate an engine config file; relative paths in it are relative to the file."""
    try:
        data, source = load_yaml(path)
    except RuleError as exc:
        raise ConfigError(str(exc)) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1:1: an engine config is a mapping (conductor:, app_tokens:, ...)")
    try:
        config = EngineConfig.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, EngineConfig, source)
        raise ConfigError("invalid engine config:\n" + "\n".join(f"  {p}" for p in problems)) from exc
    base = Path(path).resolve().parent
    ledger_path = config.ledger.path if config.ledger.path.is_absolute() else base / config.ledger.path
    loaded = config.model_copy(
        update={
            "ledger": config.ledger.model_copy(update={"path": ledger_path}),
            "rules": [p if p.is_absolute() else base / p for p in config.rules],
            "plugins_dir": (
                None if config.plugins_dir is None
                else config.plugins_dir if config.plugins_dir.is_absolute() else base / config.plugins_dir
            ),
        }
    )
    loaded._source = source
    return loaded
