"""Files in rooms (issue 24): upload, look up, list, and the local store's signed
downloads.

The upload's multipart body is parsed as it streams (python-multipart's push parser
over ``request.stream()``): FastAPI's ``UploadFile`` would first spool the whole body
(to a temporary file past 1 MB) and only then call the route, so a too-large file
would be read to its end before being refused. Here the file's bytes go straight to
the domain's temporary file, counted, and the chunk that passes the limit ends the
request with 413 (BodyLimit refuses a declared Content-Length past it before anything
is read).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.responses import FileResponse, Response

from roomchat.api import schemas
from roomchat.api.deps import MAX_REQUEST_INT, CurrentUser, IdPath, PlainDecimal, Svc
from roomchat.api.responses import BEARER, BODY, PARAMS, SCOPED, errors, ok
from roomchat.api.routing import StrictJSONRoute
from roomchat.domain.attachments import AttachmentService
from roomchat.errors import ChatError, Code, not_found
from roomchat.files.names import content_disposition
from roomchat.files.sniff import RASTER_IMAGES
from roomchat.files.thumbs import THUMBNAIL_TYPE

router = APIRouter(tags=["attachments"], route_class=StrictJSONRoute)

AttachmentReply = schemas.success(schemas.Attachment, "AttachmentResponse")
IN_ROOM = (*BEARER, *PARAMS, *SCOPED)
_FIELD = "file"


def _service(svc: Svc) -> AttachmentService:
    if svc.attachments is None:
        raise ChatError(Code.NOT_FOUND, "this server keeps no files")
    return svc.attachments


class MultipartFile:
    """The one part named ``file`` of a multipart/form-data body, as it streams."""

    def __init__(self, request: Request) -> None:
        kind, params = parse_options_header(request.headers.get("content-type", ""))
        boundary = params.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise ChatError(
                Code.VALIDATION_ERROR,
                "send multipart/form-data with one part named file",
            )
        self._stream = request.stream().__aiter__()
        self._eof = False
        self._field = b""
        self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._parts = 0
        self._started = False  # the file part's headers are read
        self._ended = False  # the file part's bytes are all read
        self._pending: list[bytes] = []
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._part_end,
            },
        )
        self.filename: str | None = None

    # The parser's callbacks (called from within ``write``).
    def _part_begin(self) -> None:
        self._parts += 1
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        if self._parts > 1:
            return  # after the file: ignored
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if params.get(b"name") != _FIELD.encode():
            raise ChatError(
                Code.VALIDATION_ERROR, "the multipart body's first part must be named file"
            )
        raw = params.get(b"filename")
        self.filename = None if raw is None else raw.decode("utf-8", "replace")
        self._started = True

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._parts == 1 and start < end:
            self._pending.append(data[start:end])

    def _part_end(self) -> None:
        if self._parts == 1:
            self._ended = True

    async def _feed(self) -> None:
        if self._eof:
            raise ChatError(Code.VALIDATION_ERROR, "the multipart body ended before its file")
        try:
            chunk = await self._stream.__anext__()
        except StopAsyncIteration:
            self._eof = True
            self._parser.finalize()
            return
        if chunk:
            try:
                self._parser.write(chunk)
            except MultipartParseError:
                raise ChatError(Code.VALIDATION_ERROR, "the multipart body is malformed") from None

    async def start(self) -> str | None:
        """Read up to the file part's headers: its filename."""
        while not self._started:
            await self._feed()
        return self.filename

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            while self._pending:
                yield self._pending.pop(0)
            if self._ended:
                return
            await self._feed()


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [_FIELD],
                    "properties": {_FIELD: {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/api/v1/room-chats/{room_id}/attachments",
    status_code=201,
    response_model=AttachmentReply,
    # payload_too_large: over max_upload_bytes; quota_exceeded: the workspace's storage
    # quota; rate_limited: UPLOAD_RATE_LIMIT per user
    responses=errors(*IN_ROOM, *BODY, Code.QUOTA_EXCEEDED),
    openapi_extra=_UPLOAD_BODY,
)
async def upload(room_id: IdPath, request: Request, user: CurrentUser, svc: Svc) -> Response:
    """Upload one file (multipart/form-data, one part named ``file``) to the room, as a
    member: streamed to storage, its type sniffed from its bytes, an image given a
    thumbnail. Attach it with ``attachment_ids`` when sending; unsent, it is removed
    after a day."""
    files = _service(svc)
    part = MultipartFile(request)
    attachment = await files.upload(user, room_id, part.start, part.chunks())
    return ok(attachment.to_dict(), 201)


@router.get(
    "/api/v1/room-chats/{room_id}/attachments",
    response_model=schemas.success(schemas.AttachmentPage, "AttachmentPageResponse"),
    responses=errors(*IN_ROOM),
)
async def room_attachments(
    room_id: IdPath,
    user: CurrentUser,
    svc: Svc,
    before_id: Annotated[
        int,
        Query(ge=1, le=MAX_REQUEST_INT, description="older than this id (default: the newest)"),
        PlainDecimal,
    ] = MAX_REQUEST_INT,
    limit: Annotated[int, Query(ge=1, le=100), PlainDecimal] = 50,
) -> Response:
    """The room's files (in messages, not deleted), newest first; ``before_id`` pages
    back."""
    found, has_more = await _service(svc).of_room(user, room_id, before_id, limit)
    return ok({"attachments": [a.to_dict() for a in found], "has_more": has_more})


@router.get(
    "/api/v1/attachments/{attachment_id}",
    response_model=AttachmentReply,
    responses=errors(*IN_ROOM),
)
async def get_attachment(attachment_id: IdPath, user: CurrentUser, svc: Svc) -> Response:
    """One attachment with freshly signed URLs, for its room's members (an unsent
    upload: its uploader)."""
    return ok((await _service(svc).get(user, attachment_id)).to_dict())


async def _download(svc: Svc, attachment_id: int, thumbnail: bool, exp: int, sig: str) -> Response:
    found = await _service(svc).download(attachment_id, thumbnail, exp, sig)
    if found is None:
        raise not_found("file (or its link expired)")
    attachment, path = found
    inline = thumbnail or attachment.content_type in RASTER_IMAGES
    headers = {
        "Content-Disposition": content_disposition(attachment.filename, inline),
        # Whatever it holds, it never runs as a page of any origin (nosniff: the
        # SecurityHeaders middleware, on every response).
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, max-age=300",
    }
    media_type = THUMBNAIL_TYPE if thumbnail else attachment.content_type
    return FileResponse(path, media_type=media_type, headers=headers)


Exp = Annotated[int, Query(ge=0, le=MAX_REQUEST_INT), PlainDecimal]
Sig = Annotated[str, Query(min_length=1, max_length=128)]


@router.get("/api/v1/files/{attachment_id}", include_in_schema=False)
async def download(attachment_id: IdPath, svc: Svc, exp: Exp, sig: Sig) -> Response:
    """A file at its signed URL (the local store): no Authorization header."""
    return await _download(svc, attachment_id, False, exp, sig)


@router.get("/api/v1/files/{attachment_id}/thumbnail", include_in_schema=False)
async def download_thumbnail(attachment_id: IdPath, svc: Svc, exp: Exp, sig: Sig) -> Response:
    return await _download(svc, attachment_id, True, exp, sig)
