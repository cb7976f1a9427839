"""The one exception tree of the rules engine.

Every error the engine raises on purpose is a :class:`RulesEngineError`. Foreign errors (httpx,
sqlite3, YAML, pydantic) are wrapped with ``raise ... from exc`` so the cause stays visible::

    RulesEngineError
    ├── ConfigError                 bad engine configuration (file, field, fix)
    ├── ConditionError              a JsonLogic condition rejected at load time (JSON path)
    ├── RuleError                   a rule file rejected at load time (file:line, rule id, field)
    ├── PluginError                 a plugin that cannot be registered (plugin, name, fix)
    ├── CodecSpecError              a struct or payload spec rejected when validated or compiled
    ├── DecodeError                 a payload a decoder cannot decode (recorded against the uplink)
    ├── PayloadError                a downlink payload that cannot be built from the values at hand
    ├── LedgerError                 the SQLite ledger cannot be opened, migrated or locked
    └── ConductorError              anything that went wrong talking to Conductor
        ├── InvalidRequestError     refused before sending: bad port, payload, address (also ValueError)
        ├── TransportError          connect error or timeout, after the retry budget
        ├── ProtocolError           a response body that is not what Conductor sends (names the URL)
        └── HTTPStatusError         a non-2xx answer (carries status, description, message)
            ├── AuthenticationError 401: the credentials were rejected
            ├── AuthorizationError  403: valid credentials without authority
            ├── NotFoundError       404: the asset or command does not exist
            ├── RequestRejectedError  other 4xx: Conductor refused the request
            ├── RateLimitedError    429, after the retry budget
            └── ServerError         5xx, after the retry budget
"""

from __future__ import annotations

__all__ = [
    "RulesEngineError",
    "ConfigError",
    "ConditionError",
    "RuleError",
    "PluginError",
    "LedgerError",
    "CodecSpecError",
    "DecodeError",
    "PayloadError",
    "ConductorError",
    "InvalidRequestError",
    "TransportError",
    "ProtocolError",
    "HTTPStatusError",
    "AuthenticationError",
    "AuthorizationError",
    "NotFoundError",
    "RequestRejectedError",
    "RateLimitedError",
    "ServerError",
]


class RulesEngineError(Exception):
    """Base class of every error the rules engine raises on purpose."""


class ConfigError(RulesEngineError):
    """The engine configuration is invalid."""


class ConditionError(RulesEngineError):
    """A JsonLogic condition was rejected at load time.

    ``path`` is the JSON path of the offending node, e.g. ``$.and[1].fooo``.
    """

    def __init__(self, message: str, path: str = "$") -> None:
        self.path = path
        self.reason = message
        super().__init__(f"{path}: {message}")


class RuleError(RulesEngineError):
    """A rule file or rule was rejected at load time.

    ``file``, ``line`` and ``column`` (1-based) say where, when known.
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None, column: int | None = None) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.reason = message
        where = f"{file}:{line}:{column}: " if file and line else (f"{file}: " if file else "")
        super().__init__(where + message)


class PluginError(RulesEngineError):
    """A plugin could not be loaded or registered."""


class CodecSpecError(RulesEngineError):
    """A struct or payload spec is invalid.

    ``index`` and ``name`` identify the offending field when there is one (``index`` is the
    0-based position in ``fields``, as in a pydantic location ``fields.3``).
    """

    def __init__(self, message: str, *, index: int | None = None, name: str | None = None) -> None:
        self.index = index
        self.name = name
        super().__init__(message)


class DecodeError(RulesEngineError):
    """A payload could not be decoded. ``field`` names the field when one is to blame."""

    def __init__(self, message: str, *, field: str | None = None, offset: int | None = None) -> None:
        self.field = field
        self.offset = offset
        super().__init__(message)


class PayloadError(RulesEngineError):
    """A payload could not be built: a value is missing, of the wrong kind or out of range."""

    def __init__(
        self, message: str, *, index: int | None = None, name: str | None = None, value: object = None
    ) -> None:
        self.index = index
        self.name = name
        self.value = value
        super().__init__(message)


class LedgerError(RulesEngineError):
    """The ledger could not be opened, migrated or locked."""


class ConductorError(RulesEngineError):
    """Talking to Conductor failed.

    ``in_doubt`` is true when a request that is not safe to repeat (issuing a downlink) may have
    reached Conductor before it failed: the caller must reconcile against Conductor's record of
    issued commands before sending again.
    """

    in_doubt: bool = False


class InvalidRequestError(ConductorError, ValueError):
    """The client refused to send a request because an argument is invalid."""


class TransportError(ConductorError):
    """The request never got an HTTP answer (connect error, timeout), even after retries."""


class ProtocolError(ConductorError):
    """Conductor answered with a body this client cannot understand."""

    def __init__(self, message: str, url: str) -> None:
        self.url = url
        super().__init__(f"{message} (from {url})")


class HTTPStatusError(ConductorError):
    """Conductor answered with a non-2xx status."""

    def __init__(
        self,
        status_code: int,
        url: str,
        description: str | None = None,
        message: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.url = url
        self.description = description
        self.message = message
        detail = ": ".join(part for part in (description, message) if part)
        text = f"HTTP {status_code} from {url}"
        if detail:
            text += f" | {detail}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class AuthenticationError(HTTPStatusError):
    """401: Conductor rejected the username or password."""


class AuthorizationError(HTTPStatusError):
    """403: the credentials are valid but lack authority for this asset or call."""


class NotFoundError(HTTPStatusError):
    """404: the asset, token or command does not exist."""


class RequestRejectedError(HTTPStatusError):
    """Another 4xx: Conductor refused the request as sent."""


class RateLimitedError(HTTPStatusError):
    """429 that persisted through the retry budget."""


class ServerError(HTTPStatusError):
    """5xx that persisted through the retry budget."""
