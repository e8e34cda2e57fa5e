"""REST envelopes: {"status":"success","data":...} and the error body from the catalogue."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from roomchat import frames, jsoncodec
from roomchat.errors import HTTP_STATUS, ChatError, Code, unavailable

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
    405: Code.METHOD_NOT_ALLOWED,
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
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    index = getattr(request.app.state, "method_index", None)
    if exc.status_code == 405 and isinstance(index, MethodIndex):
        allowed = index.allowed(request.scope)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response


class MethodIndex:
    """Which methods each path answers, for a 405's ``Allow``: Starlette's names only the
    first route that matched the path, and a path has a route per method."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self._routes = [
            (route.path_regex, route.methods)
            for route in routes
            if isinstance(route, Route) and route.methods
        ]

    def allowed(self, scope: Scope) -> list[str]:
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        methods: set[str] = set()
        for pattern, route_methods in self._routes:
            if pattern.match(path):
                methods |= route_methods
        return sorted(methods)


class ErrorBody(BaseModel):
    code: Code = Field(description="the error catalogue (roomchat.errors.Code)")
    message: str = Field(description="for people; may change: act on code")
    details: Any = Field(
        default=None,
        description="validation_error: [{field, message}]; rate_limited: {retry_after_s}",
    )
    retry_after_ms: int | None = Field(
        default=None,
        description="rate_limited and unavailable: when trying again makes sense "
        "(REST also sends Retry-After, in whole seconds)",
    )


class ErrorEnvelope(BaseModel):
    status: Literal["error"]
    error: ErrorBody


# What each code means, as a route's error answers say it.
_MEANING = {
    Code.BAD_REQUEST: "the body is not valid JSON",
    Code.UNAUTHORIZED: "no token, or an invalid, expired or revoked token or API key",
    Code.FORBIDDEN: "you may not do that (not a member, not the owner, or an API key "
    "where a login session is needed)",
    Code.WRONG_PASSCODE: "the room's passcode is missing or wrong",
    Code.NOT_FOUND: "what the path names does not exist (or is not visible to you)",
    Code.CONFLICT: "the state does not allow it (a bound reached, a name taken...)",
    Code.PAYLOAD_TOO_LARGE: "the body is over max_body_bytes (default 1 MiB)",
    Code.VALIDATION_ERROR: "missing fields, wrong types, or values out of range (ids: 1 to 2^53-1)",
    Code.RATE_LIMITED: "too many requests: retry after retry_after_ms (Retry-After)",
    Code.UNAVAILABLE: "the database is unreachable or too slow: retry after "
    "retry_after_ms (Retry-After)",
    Code.QUOTA_EXCEEDED: "the workspace's storage quota is used up",
}


def errors(*codes: Code) -> dict[int | str, dict[str, Any]]:
    """A route's error answers (FastAPI ``responses=``): each code it can answer, under
    its HTTP status, with the error envelope."""
    by_status: dict[int, list[Code]] = {}
    for code in dict.fromkeys(codes):
        by_status.setdefault(HTTP_STATUS[code], []).append(code)
    return {
        status: {
            "model": ErrorEnvelope,
            "description": "; ".join(f"`{c.value}`: {_MEANING[c]}" for c in listed),
        }
        for status, listed in sorted(by_status.items())
    }


# The building blocks of the routes' lists.
# A bearer (token or API key): a bad one, an API key past its rate, the database down.
BEARER = (Code.UNAUTHORIZED, Code.RATE_LIMITED, Code.UNAVAILABLE)
# A login session's routes: an API key is refused.
SESSION = (*BEARER, Code.FORBIDDEN)
# A JSON body: not JSON, too large, not the model.
BODY = (Code.BAD_REQUEST, Code.PAYLOAD_TOO_LARGE, Code.VALIDATION_ERROR)
# Path or query parameters (ids, limits, cursors).
PARAMS = (Code.VALIDATION_ERROR,)
# Something in a workspace or room: not yours, or not there.
SCOPED = (Code.FORBIDDEN, Code.NOT_FOUND)
