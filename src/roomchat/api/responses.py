"""REST envelopes: {"status":"success","data":...} and the error body from the catalogue."""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from roomchat import frames, jsoncodec
from roomchat.errors import ChatError, Code, unavailable

log = logging.getLogger(__name__)


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return jsoncodec.dumps(content)


def ok(data: Any, status_code: int = 200) -> JSON:
    return JSON({"status": "success", "data": data}, status_code=status_code)


def ok_encoded(data: bytes, status_code: int = 200) -> Response:
    """A success envelope around ``data`` already encoded (stored events, byte for byte)."""
    return Response(
        frames.rest_success(data),
        status_code=status_code,
        media_type=JSON.media_type,
    )


def error_response(err: ChatError) -> JSON:
    response = JSON({"status": "error", "error": err.error_dict()}, status_code=err.http_status)
    if err.retry_after_s is not None:
        response.headers["Retry-After"] = str(err.retry_after_s)
    return response


def _counted(request: Request, err: ChatError) -> ChatError:
    """The error, counted in the instance's metrics (roomchat_errors_total{code})."""
    services = getattr(request.app.state, "services", None)
    if services is not None:
        services.metrics.error(err.code, "http")
    return err


async def on_chat_error(request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, ChatError)
    return error_response(_counted(request, exc))


async def on_validation_error(request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        bad = ChatError(Code.BAD_REQUEST, "the body is not valid JSON")
        return error_response(_counted(request, bad))
    details = [
        {"field": ".".join(str(p) for p in e["loc"][1:] or e["loc"]), "message": e["msg"]}
        for e in errors
    ]
    invalid = ChatError(
        Code.VALIDATION_ERROR, "the request is missing fields or has wrong types", details
    )
    return error_response(_counted(request, invalid))


# What the database layer raises when it fails (asyncpg's timeouts and socket errors
# are OSErrors): those that mean "unreachable or too slow" answer 503 `unavailable`.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OSError, SQLAlchemyError)


async def on_database_error(request: Request, exc: Exception) -> JSON:
    """The database unreachable or too slow: 503 `unavailable`, logged in one line (no
    traceback: nothing to debug here). Any other such error stays a 500."""
    if not request.app.state.services.store.is_unavailable(exc):
        raise exc
    log.warning("request failed: the database is unavailable (%s)", type(exc).__name__)
    return error_response(_counted(request, unavailable()))


HTTP_CODES = {
    401: Code.UNAUTHORIZED,
    403: Code.FORBIDDEN,
    404: Code.NOT_FOUND,
    413: Code.PAYLOAD_TOO_LARGE,
    429: Code.RATE_LIMITED,
}


async def on_http_error(request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, Code.BAD_REQUEST)
    # FastAPI raises a bare 400 for a body it cannot decode: say it as for bad JSON.
    message = "the body is not valid JSON" if exc.status_code == 400 else str(exc.detail)
    err = ChatError(code, message)
    response = error_response(_counted(request, err))
    response.status_code = exc.status_code
    return response


class ErrorBody(BaseModel):
    code: str = Field(description="one of roomchat.errors.Code", examples=["validation_error"])
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    status: Literal["error"]
    error: ErrorBody


_ERRORS_DOC = {
    400: "bad_request: the body is not valid JSON",
    401: "unauthorized: no, an invalid, an expired or a revoked token",
    403: "forbidden (or wrong_passcode)",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large: the body is over max_body_bytes (default 1 MiB)",
    422: "validation_error: missing fields, wrong types, or values out of range",
    429: "rate_limited: try again after Retry-After seconds",
    503: "unavailable: the database is unreachable or too slow; try again (Retry-After)",
}
# Every route may answer these, each with the error envelope (FastAPI responses=).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text} for status, text in _ERRORS_DOC.items()
}
