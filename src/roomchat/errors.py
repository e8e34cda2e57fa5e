"""One catalogue of error codes, shared by REST and WebSocket replies."""

from __future__ import annotations

import math
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
    METHOD_NOT_ALLOWED = "method_not_allowed"
    QUOTA_EXCEEDED = "quota_exceeded"


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
    Code.METHOD_NOT_ALLOWED: 405,
    Code.QUOTA_EXCEEDED: 413,
}


class ChatError(Exception):
    """An error the caller caused or may act on; anything else is an internal failure."""

    def __init__(
        self, code: Code, message: str, details: Any = None, *, retry_after_ms: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        # When trying again makes sense (rate limits, an outage): the error body's
        # ``retry_after_ms`` on REST and the WebSocket, and REST's Retry-After header.
        self.retry_after_ms = retry_after_ms

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    @property
    def retry_after_s(self) -> int | None:
        """Whole seconds for Retry-After, rounded up (never 0 while a wait remains)."""
        if self.retry_after_ms is None:
            return None
        return max(1, math.ceil(self.retry_after_ms / 1000))

    def error_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        if self.retry_after_ms is not None:
            body["retry_after_ms"] = self.retry_after_ms
        return body


def unauthorized(message: str = "missing or invalid token") -> ChatError:
    return ChatError(Code.UNAUTHORIZED, message)


def forbidden(message: str = "you are not allowed to do that") -> ChatError:
    return ChatError(Code.FORBIDDEN, message)


def not_found(what: str) -> ChatError:
    return ChatError(Code.NOT_FOUND, f"{what} not found")


def rate_limited(message: str, retry_after_ms: int) -> ChatError:
    """``retry_after_ms``: when the limit lets the next one through (at least 1 ms)."""
    wait_ms = max(1, retry_after_ms)
    wait_s = max(1, math.ceil(wait_ms / 1000))
    # details.retry_after_s: what REST errors said before retry_after_ms (kept).
    return ChatError(Code.RATE_LIMITED, message, {"retry_after_s": wait_s}, retry_after_ms=wait_ms)


# What the error says with `unavailable`: a hint, not a promise.
UNAVAILABLE_RETRY_AFTER_MS = 2000


def unavailable(
    message: str = "the database is unreachable or too slow right now; try again shortly",
) -> ChatError:
    """Nothing the caller did: a part this server needs is unreachable or too slow for now.
    The request's outcome may be unknown (a send: try again with its client_msg_id)."""
    return ChatError(Code.UNAVAILABLE, message, retry_after_ms=UNAVAILABLE_RETRY_AFTER_MS)


def file_too_large(limit: int) -> ChatError:
    """payload_too_large for a file over ``limit`` bytes, saying the limit (a client shows
    it, and may refuse before the next upload: ``details.max_upload_bytes``)."""
    shown = f"{limit / 1048576:g} MiB" if limit >= 1048576 else f"{limit} bytes"
    return ChatError(
        Code.PAYLOAD_TOO_LARGE,
        f"the file is over the upload limit of {shown}",
        {"max_upload_bytes": limit},
    )
