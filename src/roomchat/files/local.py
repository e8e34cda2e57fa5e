"""The local-disk file store (the default): objects under ``files_dir``, served by
roomchat itself at HMAC-signed URLs (``/api/v1/files/{id}?exp=&sig=``)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

_OBJECTS = "objects"
_TEMP = "tmp"


class UrlSigner:
    """HMAC-SHA256 over what a URL may fetch (an attachment, its file or thumbnail) and
    until when: nothing else in the URL counts, and no row or session is read to mint
    one. Every instance serving the same files must share ``secret``."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"roomchat-files\x00" + secret.encode()).digest()

    def sign(self, attachment_id: int, thumbnail: bool, expires_at: int) -> str:
        text = b"%d:%d:%d" % (attachment_id, 1 if thumbnail else 0, expires_at)
        return hmac.new(self._key, text, hashlib.sha256).hexdigest()[:43]

    def check(self, attachment_id: int, thumbnail: bool, expires_at: int, signature: str) -> bool:
        return hmac.compare_digest(self.sign(attachment_id, thumbnail, expires_at), signature)


class LocalFileStore:
    def __init__(self, root: Path, base_url: str, signer: UrlSigner) -> None:
        self._root = root
        self._objects = root / _OBJECTS
        self._base = base_url.rstrip("/")
        self._signer = signer

    @property
    def temp_dir(self) -> Path:
        return self._root / _TEMP

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise ValueError("bad object key")
        return self._objects.joinpath(*parts)

    async def put(self, key: str, source: Path, content_type: str, disposition: str) -> None:
        target = self._path(key)
        await asyncio.to_thread(_move, source, target)

    async def delete(self, keys: Sequence[str]) -> None:
        await asyncio.to_thread(_unlink_all, [self._path(k) for k in keys])

    async def keys_before(self, cutoff: datetime) -> list[str]:
        return await asyncio.to_thread(_walk, self._objects, cutoff.timestamp())

    def url(self, key: str, attachment_id: int, thumbnail: bool, expires_at: int) -> str:
        query = urlencode(
            {"exp": expires_at, "sig": self._signer.sign(attachment_id, thumbnail, expires_at)}
        )
        tail = "/thumbnail" if thumbnail else ""
        return f"{self._base}/api/v1/files/{attachment_id}{tail}?{query}"

    def local_path(
        self, key: str, attachment_id: int, thumbnail: bool, expires_at: int, signature: str
    ) -> Path | None:
        if not self._signer.check(attachment_id, thumbnail, expires_at, signature):
            return None
        return self._path(key)


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _walk(root: Path, before: float) -> list[str]:
    found: list[str] = []
    if not root.is_dir():
        return found
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            try:
                if path.stat().st_mtime < before:
                    found.append(path.relative_to(root).as_posix())
            except FileNotFoundError:
                continue
    return found


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
