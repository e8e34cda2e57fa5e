"""Files and images in messages (issue 24): uploading, attaching, serving, sweeping.

An upload streams to a temporary file (never held in memory), bounded as it streams
(``max_upload_bytes``: payload_too_large before anything is stored), is sniffed from
its bytes (never the client's word), checked and given a thumbnail off the event loop
when it is a raster image, counted against its workspace's quota, and put in the file
store (the ``FileStore`` port: local disk or S3, roomchat/files/). Its row says which
room, who, and, once sent, which message.

Wherever a message is served its attachments carry fresh signed URLs (``fresh``): the
stored and broadcast bytes keep the URLs minted when they were encoded, and every read
path (join replies, catch-up, history, events pages) re-mints them, so a page reloaded
an hour later still shows its images. A message without files pays one substring test.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from roomchat import jsoncodec
from roomchat.domain import kinds
from roomchat.domain.events import RoomEvent
from roomchat.domain.models import Attachment, Message, Room, User
from roomchat.domain.rate_limits import RateLimiter
from roomchat.errors import ChatError, Code, file_too_large, forbidden, unavailable
from roomchat.files.names import content_disposition, safe_filename
from roomchat.files.sniff import RASTER_IMAGES, SNIFF_BYTES, sniff
from roomchat.files.thumbs import THUMBNAIL_TYPE, BadImage, lower_priority, make_thumbnail

log = logging.getLogger("roomchat.attachments")

MAX_PER_MESSAGE = 10
LIST_PAGE = 100
_MARK = b'"attachments":[{'  # an encoded message with files (a string's quotes are escaped)


class AttachmentsTaken(Exception):
    """A send's uploads were claimed by another message (or removed) since its check."""


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """An attachment's row: the attachment, its workspace, and its objects' keys."""

    attachment: Attachment
    workspace_id: int
    storage_key: str
    thumbnail_key: str | None


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    max_upload_bytes: int = 25 * 1024 * 1024
    workspace_quota_bytes: int = 10 * 1024**3
    max_image_pixels: int = 50_000_000
    url_ttl_s: int = 3600
    unattached_ttl_s: float = 24 * 3600.0
    orphan_grace_s: float = 600.0  # an object younger than this may be an upload in flight
    sweep_interval_s: float = 600.0


class FileStore(Protocol):
    """Where files are kept (roomchat/files/local.py, roomchat/files/s3.py)."""

    @property
    def temp_dir(self) -> Path:
        """A local folder for uploads in flight (on the same disk as local objects)."""

    async def put(self, key: str, source: Path, content_type: str, disposition: str) -> None:
        """Store ``source``'s bytes under ``key`` (``source`` may be moved away)."""

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove the objects (missing ones are no error)."""

    async def keys_before(self, cutoff: datetime) -> list[str]:
        """Every object's key last written before ``cutoff``."""

    def url(self, key: str, attachment_id: int, thumbnail: bool, expires_at: int) -> str:
        """A URL a browser can GET the object from until ``expires_at`` (epoch seconds)."""

    def local_path(
        self, key: str, attachment_id: int, thumbnail: bool, expires_at: int, signature: str
    ) -> Path | None:
        """The local file of a signed URL this store minted, if it serves them itself and
        the signature is right and unexpired; else None."""


class AttachmentRows(Protocol):
    """The attachments table (store/attachments.py)."""

    async def add(
        self,
        workspace_id: int,
        room_id: int,
        user_id: int,
        filename: str,
        content_type: str,
        size: int,
        width: int | None,
        height: int | None,
        key_of: Callable[[int], tuple[str, str | None]],
        now: datetime,
    ) -> Attachment: ...
    async def get(self, attachment_id: int) -> StoredAttachment | None: ...
    async def get_many(self, ids: Sequence[int]) -> list[StoredAttachment]: ...
    async def of_room(
        self, room_id: int, before_id: int | None, limit: int
    ) -> list[Attachment]: ...
    async def usage(self, workspace_id: int) -> int: ...
    async def unattached_before(self, cutoff: datetime) -> list[StoredAttachment]: ...
    async def gone(self) -> list[StoredAttachment]: ...
    async def remove(self, ids: Sequence[int]) -> None: ...
    async def known_keys(self, keys: Sequence[str]) -> set[str]: ...


class Membership(Protocol):
    async def require_room_member(self, user: User, room_id: int) -> Room: ...


def object_keys(room_id: int, attachment_id: int, thumbnail: bool) -> tuple[str, str | None]:
    """An attachment's object keys (its file's, its thumbnail's): derived from its ids, so
    a URL can be minted from a served message alone."""
    key = f"{room_id}/{attachment_id}"
    return key, (key + ".thumb" if thumbnail else None)


@dataclass(frozen=True, slots=True)
class SweepReport:
    unattached: int
    gone: int
    orphans: int


class AttachmentService:
    def __init__(
        self,
        rows: AttachmentRows,
        files: FileStore,
        rooms: Membership,
        limits: AttachmentLimits,
        uploads: RateLimiter,
        origin: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        wall: Callable[[], float] | None = None,
    ) -> None:
        self._rows = rows
        self._files = files
        self._rooms = rooms
        self.limits = limits
        self._uploads = uploads
        self._origin = origin
        self._clock = clock
        self._wall = wall or (lambda: clock().timestamp())
        # Thumbnails: at most two images decoded at once, never on the event loop.
        self._pool = ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="thumbnails", initializer=lower_priority
        )
        self._task: asyncio.Task[None] | None = None
        self._purge: asyncio.Task[None] | None = None
        self._purge_again = False

    # -- URLs ----------------------------------------------------------------------------

    def _expires_at(self) -> int:
        """Rounded up to the minute: the same URL for a minute, so browsers cache it."""
        at = int(self._wall()) + self.limits.url_ttl_s
        return at + (-at % 60)

    def minted(self, attachment: Attachment) -> Attachment:
        exp = self._expires_at()
        key, thumb = object_keys(attachment.room_id, attachment.id, attachment.has_thumbnail)
        return replace(
            attachment,
            url=self._files.url(key, attachment.id, False, exp),
            thumbnail_url=None
            if thumb is None
            else self._files.url(thumb, attachment.id, True, exp),
        )

    def mint_message(self, message: Message) -> Message:
        if not message.attachments:
            return message
        return replace(message, attachments=tuple(self.minted(a) for a in message.attachments))

    def fresh(self, data: bytes) -> bytes:
        """Encoded JSON (a message, an event, a page) with every attachment's URLs minted
        afresh; the same bytes when it shows no attachment."""
        if _MARK not in data:
            return data
        obj = jsoncodec.loads(data)
        self.fresh_obj(obj)
        return jsoncodec.dumps(obj)

    def fresh_obj(self, obj: Any) -> None:
        """The same as ``fresh`` on decoded JSON, in place."""
        if isinstance(obj, list):
            for item in obj:
                self.fresh_obj(item)
            return
        if not isinstance(obj, dict):
            return
        for key, value in obj.items():
            if key == "attachments" and isinstance(value, list):
                exp = self._expires_at()
                for item in value:
                    if isinstance(item, dict) and "id" in item and "room_id" in item:
                        self._remint(item, exp)
            elif isinstance(value, dict | list):
                self.fresh_obj(value)

    def _remint(self, item: dict[str, Any], exp: int) -> None:
        attachment_id, room_id = int(item["id"]), int(item["room_id"])
        has_thumb = item.get("width") is not None
        key, thumb = object_keys(room_id, attachment_id, has_thumb)
        item["url"] = self._files.url(key, attachment_id, False, exp)
        item["thumbnail_url"] = (
            None if thumb is None else self._files.url(thumb, attachment_id, True, exp)
        )

    # -- uploading -----------------------------------------------------------------------

    async def upload(
        self,
        user: User,
        room_id: int,
        filename: Callable[[], Awaitable[str | None]],
        chunks: AsyncIterator[bytes],
    ) -> Attachment:
        """Stream a file into the room's uploads; the attachment (201) or an error, and
        then nothing stored. ``filename`` reads the body up to the file's name; nothing
        of the body is read before the caller's rights are checked."""
        room = await self._rooms.require_room_member(user, room_id)
        self._uploads.hit(str(user.id))
        used = await self._rows.usage(room.workspace_id)
        if used >= self.limits.workspace_quota_bytes:
            raise _quota()
        temp = self._files.temp_dir
        temp.mkdir(parents=True, exist_ok=True)
        fd, raw = tempfile.mkstemp(dir=temp, prefix="upload-")
        path = Path(raw)
        thumb_path = path.with_suffix(".thumb")
        try:
            with os.fdopen(fd, "wb") as out:
                given = await filename()
                size, head = await _spool(out, chunks, self.limits.max_upload_bytes)
            if size == 0:
                raise ChatError(Code.VALIDATION_ERROR, "the file is empty")
            content_type = sniff(head)
            width = height = None
            if content_type in RASTER_IMAGES:
                loop = asyncio.get_running_loop()
                try:
                    made = await loop.run_in_executor(
                        self._pool,
                        make_thumbnail,
                        path,
                        content_type,
                        thumb_path,
                        self.limits.max_image_pixels,
                    )
                except BadImage as bad:
                    raise ChatError(Code.VALIDATION_ERROR, f"image refused: {bad}") from None
                width, height = made.width, made.height
            if used + size > self.limits.workspace_quota_bytes:
                raise _quota()
            name = safe_filename(given)
            attachment = await self._rows.add(
                room.workspace_id,
                room_id,
                user.id,
                name,
                content_type,
                size,
                width,
                height,
                lambda new_id: object_keys(room_id, new_id, width is not None),
                self._clock(),
            )
            attachment = replace(attachment, has_thumbnail=width is not None)
            key, thumb_key = object_keys(room_id, attachment.id, width is not None)
            try:
                inline = content_type in RASTER_IMAGES
                await self._files.put(key, path, content_type, content_disposition(name, inline))
                if thumb_key is not None:
                    await self._files.put(
                        thumb_key, thumb_path, THUMBNAIL_TYPE, content_disposition(name, True)
                    )
            except Exception:
                log.exception("storing attachment %d failed", attachment.id)
                await self._rows.remove([attachment.id])
                await self._files.delete([k for k in (key, thumb_key) if k is not None])
                raise unavailable("the file store is unreachable; try again shortly") from None
            return self.minted(attachment)
        finally:
            for leftover in (path, thumb_path):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    # -- attaching -----------------------------------------------------------------------

    async def for_send(self, user: User, room_id: int, ids: Sequence[int]) -> tuple[int, ...]:
        """The uploads a send attaches, checked: at most 10, the sender's own, in that
        room, not yet sent (forbidden for anyone else's or another room's, conflict for
        one already in a message). The send's transaction claims them again."""
        if not ids:
            return ()
        wanted = tuple(dict.fromkeys(ids))
        if len(ids) > MAX_PER_MESSAGE:
            raise ChatError(
                Code.VALIDATION_ERROR, f"at most {MAX_PER_MESSAGE} attachments per message"
            )
        found = {s.attachment.id: s.attachment for s in await self._rows.get_many(wanted)}
        for attachment_id in wanted:
            a = found.get(attachment_id)
            if a is None or a.room_id != room_id or a.user_id != user.id:
                raise forbidden("attach your own uploads to this room only")
            if a.message_id is not None:
                raise ChatError(Code.CONFLICT, "that upload is already in a message")
        return wanted

    # -- reading -------------------------------------------------------------------------

    async def get(self, user: User, attachment_id: int) -> Attachment:
        """One attachment with fresh URLs: for the room's members (an upload not yet
        sent: for its uploader only)."""
        stored = await self._rows.get(attachment_id)
        if stored is None:
            raise forbidden("you cannot see that attachment")
        a = stored.attachment
        try:
            await self._rooms.require_room_member(user, a.room_id)
        except ChatError:
            raise forbidden("you cannot see that attachment") from None
        if a.message_id is None and a.user_id != user.id:
            raise forbidden("you cannot see that attachment")
        return self.minted(a)

    async def of_room(
        self, user: User, room_id: int, before_id: int | None, limit: int
    ) -> tuple[list[Attachment], bool]:
        """The room's sent files, newest first (the "files" tab), and whether older ones
        exist."""
        if not 1 <= limit <= LIST_PAGE:
            raise ChatError(Code.VALIDATION_ERROR, f"limit must be 1-{LIST_PAGE}")
        await self._rooms.require_room_member(user, room_id)
        found = await self._rows.of_room(room_id, before_id, limit + 1)
        return [self.minted(a) for a in found[:limit]], len(found) > limit

    async def download(
        self, attachment_id: int, thumbnail: bool, expires_at: int, signature: str
    ) -> tuple[Attachment, Path] | None:
        """A signed local URL's attachment and file; None when the signature is wrong or
        expired, or the file is gone (deleted with its message, swept)."""
        if expires_at < self._wall():
            return None
        stored = await self._rows.get(attachment_id)
        if stored is None:
            return None
        a = stored.attachment
        key, thumb_key = object_keys(a.room_id, a.id, a.has_thumbnail)
        if thumbnail and thumb_key is None:
            return None
        path = self._files.local_path(
            thumb_key if thumbnail and thumb_key else key,
            attachment_id,
            thumbnail,
            expires_at,
            signature,
        )
        if path is None or not path.exists():
            return None
        return a, path

    # -- removing ------------------------------------------------------------------------

    def heard(self, event: RoomEvent) -> None:
        """A message or a room deleted here: its files go now (the sweep would later)."""
        if event.origin != self._origin:
            return
        if event.action not in (kinds.MESSAGE_DELETED, kinds.ROOM_DELETED):
            return
        self._purge_soon()

    def _purge_soon(self) -> None:
        if self._purge is not None and not self._purge.done():
            self._purge_again = True
            return
        self._purge = asyncio.get_running_loop().create_task(self._purge_loop())

    async def _purge_loop(self) -> None:
        while True:
            self._purge_again = False
            try:
                await self.purge_gone()
            except Exception:
                log.exception("removing deleted messages' files failed (the sweep retries)")
            if not self._purge_again:
                return

    async def purge_gone(self) -> int:
        """Remove the files of deleted messages and deleted rooms."""
        return await self._remove(await self._rows.gone())

    async def _remove(self, stored: Sequence[StoredAttachment]) -> int:
        if not stored:
            return 0
        keys = [k for s in stored for k in (s.storage_key, s.thumbnail_key) if k is not None]
        await self._files.delete(keys)
        await self._rows.remove([s.attachment.id for s in stored])
        return len(stored)

    async def sweep(self) -> SweepReport:
        """Uploads never sent within ``unattached_ttl_s``, files of deleted messages and
        rooms, and objects no row names (older than a grace, so no upload in flight)."""
        now = self._clock()
        unattached = await self._remove(
            await self._rows.unattached_before(
                now - timedelta(seconds=self.limits.unattached_ttl_s)
            )
        )
        gone = await self.purge_gone()
        keys = await self._files.keys_before(now - timedelta(seconds=self.limits.orphan_grace_s))
        orphans: list[str] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            known = await self._rows.known_keys(chunk)
            orphans += [k for k in chunk if k not in known]
        if orphans:
            await self._files.delete(orphans)
        report = SweepReport(unattached, gone, len(orphans))
        if unattached or gone or orphans:
            log.info(
                "attachment sweep: %d unattached, %d deleted, %d orphan objects removed",
                unattached,
                gone,
                len(orphans),
            )
        return report

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._sweep_loop())

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.limits.sweep_interval_s)
            try:
                await self.sweep()
            except Exception:
                log.exception("attachment sweep failed (next time again)")

    async def close(self) -> None:
        for task in (self._task, self._purge):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._pool.shutdown(wait=False, cancel_futures=True)


def _quota() -> ChatError:
    return ChatError(Code.QUOTA_EXCEEDED, "the workspace's storage quota is used up")


async def _spool(out: BinaryIO, chunks: AsyncIterator[bytes], limit: int) -> tuple[int, bytes]:
    """Write the chunks to ``out``, counting: payload_too_large as soon as they pass
    ``limit``. The size and the first bytes, for sniffing."""
    size = 0
    head = b""
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise file_too_large(limit)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        out.write(chunk)
    return size, head
