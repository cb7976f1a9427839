"""The error every simulator operation raises for a client mistake; rendered as Conductor's JSON."""

from __future__ import annotations

from rules_engine.simulator import _invented as inv

__all__ = ["ApiError", "bad_request", "not_found"]


class ApiError(Exception):
    """An HTTP error answer: ``{"description": ..., "message": ...}`` with ``status``."""

    def __init__(self, status: int, description: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status} | {description}: {message}")
        self.status = status
        self.description = description
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"description": self.description, "message": self.message}


def bad_request(message: str) -> ApiError:
    return ApiError(inv.BAD_REQUEST_STATUS, "Bad Request", message)


def not_found(message: str) -> ApiError:
    return ApiError(inv.NOT_FOUND_STATUS, "Not Found", message)
