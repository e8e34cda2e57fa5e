"""One catalogue of error codes, shared by REST and WebSocket replies."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Code(StrEnum):
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    VALIDATION_ERROR = "validation_error"
    WRONG_PASSCODE = "wrong_passcode"
    RATE_LIMITED = "rate_limited"
    UNKNOWN_ACTION = "unknown_action"
    BAD_REQUEST = "bad_request"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INTERNAL_ERROR = "internal_error"
    UNAVAILABLE = "unavailable"


HTTP_STATUS: dict[Code, int] = {
    Code.UNAUTHORIZED: 401,
    Code.FORBIDDEN: 403,
    Code.NOT_FOUND: 404,
    Code.VALIDATION_ERROR: 422,
    Code.WRONG_PASSCODE: 403,
    Code.RATE_LIMITED: 429,
    Code.UNKNOWN_ACTION: 400,
    Code.BAD_REQUEST: 400,
    Code.CONFLICT: 409,
    Code.PAYLOAD_TOO_LARGE: 413,
    Code.INTERNAL_ERROR: 500,
    Code.UNAVAILABLE: 503,
}


class ChatError(Exception):
    """An error the caller caused or may act on; anything else is an internal failure."""

    def __init__(
        self, code: Code, message: str, details: Any = None, *, retry_after_s: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        # When trying again makes sense (rate limits): REST sends it as Retry-After.
        self.retry_after_s = retry_after_s

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def error_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


def unauthorized(message: str = "missing or invalid token") -> ChatError:
    return ChatError(Code.UNAUTHORIZED, message)


def forbidden(message: str = "you are not allowed to do that") -> ChatError:
    return ChatError(Code.FORBIDDEN, message)


def not_found(what: str) -> ChatError:
    return ChatError(Code.NOT_FOUND, f"{what} not found")


def rate_limited(message: str, retry_after_s: int) -> ChatError:
    return ChatError(
        Code.RATE_LIMITED, message, {"retry_after_s": retry_after_s}, retry_after_s=retry_after_s
    )


# What REST's Retry-After says with `unavailable`: a hint, not a promise.
UNAVAILABLE_RETRY_AFTER_S = 2


def unavailable(
    message: str = "the database is unreachable or too slow right now; try again shortly",
) -> ChatError:
    """Nothing the caller did: a part this server needs is unreachable or too slow for now.
    The request's outcome may be unknown (a send: try again with its client_msg_id)."""
    return ChatError(Code.UNAVAILABLE, message, retry_after_s=UNAVAILABLE_RETRY_AFTER_S)
