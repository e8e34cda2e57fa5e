"""REST envelopes: {"status":"success","data":...} and the error body from the catalogue."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from roomchat import jsoncodec
from roomchat.errors import ChatError, Code


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return jsoncodec.dumps(content)


def ok(data: Any, status_code: int = 200) -> JSON:
    return JSON({"status": "success", "data": data}, status_code=status_code)


def error_response(err: ChatError) -> JSON:
    return JSON({"status": "error", "error": err.error_dict()}, status_code=err.http_status)


async def on_chat_error(_request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, ChatError)
    return error_response(exc)


async def on_validation_error(_request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(ChatError(Code.BAD_REQUEST, "the body is not valid JSON"))
    details = [
        {"field": ".".join(str(p) for p in e["loc"][1:] or e["loc"]), "message": e["msg"]}
        for e in errors
    ]
    return error_response(
        ChatError(
            Code.VALIDATION_ERROR, "the request is missing fields or has wrong types", details
        )
    )


HTTP_CODES = {
    401: Code.UNAUTHORIZED,
    403: Code.FORBIDDEN,
    404: Code.NOT_FOUND,
    429: Code.RATE_LIMITED,
}


async def on_http_error(_request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, Code.BAD_REQUEST)
    err = ChatError(code, str(exc.detail))
    response = error_response(err)
    response.status_code = exc.status_code
    return response
