"""Pure ASGI middleware in front of every REST request: body size cap, security headers,
request ids."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roomchat import jsoncodec
from roomchat.errors import ChatError, Code, file_too_large
from roomchat.logs import request_id_of, request_id_var


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` inside the route; the HTTP error handler makes it a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """Refuse a request body over ``max_bytes`` without reading (or keeping) the excess.

    A Content-Length over the cap is answered at once, before the app runs; a body
    without one (chunked) is counted as it streams, and the chunk that crosses the
    cap ends the request. What the client still sends is read and dropped by the
    server (nothing of it is kept): closing at once instead would reset the
    connection under a client still writing, and it would never see the 413.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_bytes: int | None = None,
        larger: dict[str, int] | None = None,
    ) -> None:
        """``upload_bytes``: the cap of a file upload's body instead (the largest file and
        its multipart framing); the route bounds the file itself as it streams.
        ``larger``: paths (exactly) whose bodies may be larger, and their own cap (an
        upload path that checks its own bound: api/routes/users.py's avatar)."""
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        if self.upload_bytes is not None and is_upload(scope):
            limit = self.upload_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            if self.upload_bytes is not None and is_upload(scope):
                await _send_413(send, file_too_large(limit - MULTIPART_OVERHEAD))
            else:
                await _send_413(send, _body_too_large(limit))
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


_UPLOAD = re.compile(r"/api/v1/room-chats/[0-9]+/attachments/?")
# What a multipart body may add around its file: the boundaries and the part's headers.
MULTIPART_OVERHEAD = 64 * 1024


def is_upload(scope: Scope) -> bool:
    """A file upload (POST /api/v1/room-chats/{room_id}/attachments)."""
    return scope.get("method") == "POST" and _UPLOAD.fullmatch(scope["path"]) is not None


def _body_too_large(limit: int) -> ChatError:
    return ChatError(Code.PAYLOAD_TOO_LARGE, f"the request body is larger than {limit} bytes")


async def _send_413(send: Send, err: ChatError) -> None:
    body = jsoncodec.dumps({"status": "error", "error": err.error_dict()})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# The web client is plain ES modules and one stylesheet, all from this origin; the
# API answers JSON that no page should ever run or frame.
_WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{img}; "
    "connect-src 'self' {ws}; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_API_CSP = "default-src 'none'; frame-ancestors 'none'"
# /docs is Swagger UI from this origin (api/documents.py): its scripts, its stylesheet
# (with data: images), and /openapi.json; nothing inline, nothing from elsewhere.
_DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# What the server answers as API, not as the web client's pages.
_API_DOCUMENTS = frozenset({"/healthz", "/readyz", "/openapi.json", "/asyncapi.yaml", "/metrics"})
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


class SecurityHeaders:
    """CSP, no sniffing, no referrer, no framing on every HTTP response."""

    def __init__(
        self, app: ASGIApp, files_origin: str | None = None, avatars_base_url: str | None = None
    ) -> None:
        """``files_origin``: where attachments' URLs point when it is not this origin
        (a separate files origin, an S3 bucket): the web client's pages may show images
        from there. ``avatars_base_url``: the public base URL, which every ``avatar_url``
        starts with: a page reached by another name (localhost for 127.0.0.1) shows them."""
        self.app = app
        origins = [files_origin, _origin(avatars_base_url)]
        self.img = "".join(f" {o}" for o in dict.fromkeys(o for o in origins if o))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = _policy(scope, self.img).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", csp),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _origin(url: str | None) -> str | None:
    """scheme://host[:port] of an http(s) URL, or None (nothing else goes in a policy)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc}"


def is_api_path(path: str) -> bool:
    """A path of the API (REST routes, health, metrics, the documents), never a page."""
    return path.startswith("/api/") or path in _API_DOCUMENTS


def _policy(scope: Scope, img: str = "") -> str:
    path: str = scope["path"]
    if is_api_path(path):
        return _API_CSP
    if path == "/docs" or path.startswith("/docs/"):
        return _DOCS_CSP
    # Browsers before CSP3 do not count ws(s) as 'self': name this host's sockets.
    host = Headers(scope=scope).get("host", "")
    ws = f"ws://{host} wss://{host}" if _HOST.fullmatch(host) else ""
    return _WEB_CSP.format(ws=ws, img=img)


class RequestId:
    """Every REST request gets an id: the client's ``X-Request-ID`` when it is a safe
    one, else a new one; it is on the response and on every log line of the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(Headers(scope=scope).get("x-request-id")) or uuid.uuid4().hex
        header = (b"x-request-id", request_id.encode())

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, tagged)
        finally:
            request_id_var.reset(token)
