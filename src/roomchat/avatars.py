"""Profile pictures: their own small upload path, kept apart from any other upload.

``PUT /api/v1/users/me/avatar`` takes the image's bytes (at most ``MAX_AVATAR_BYTES``).
What it is comes from the bytes, never from the Content-Type the client sent: Pillow
opens it only as one of ``FORMATS``. It is decoded in a worker thread with a bound on
its pixels (a small file that unpacks into a huge bitmap is refused before it is
decoded), cropped to its centre square, scaled to ``SIZE`` px and written again as
PNG: nothing of the upload but its pixels survives (no EXIF, no GPS, no comment, no
trailing bytes, no second frame).

The file is named by its digest under ``{data_dir}/avatars/{user_id}/`` and served as
``image/png`` with ``X-Content-Type-Options: nosniff`` (api/routes/users.py): a name is
never reused, so it is cached for good. A user's newest ``KEPT_PER_USER`` are kept.
Every instance reads the same ``data_dir`` in a cluster (a shared volume), as every
instance reads the same database.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import warnings
from pathlib import Path

from roomchat.errors import ChatError, Code

MAX_AVATAR_BYTES = 2 * 1024 * 1024
# Decoded pixels at most: 4096 x 4096 (64 MiB of RGBA at worst), whatever the file's size.
MAX_PIXELS = 4096 * 4096
SIZE = 256  # the stored square's side
KEPT_PER_USER = 5  # a user's newest pictures kept; older ones are deleted
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
_NAME = re.compile(r"[0-9a-f]{32}\.png")


def _thumbnail(data: bytes) -> bytes:
    """The upload as a SIZE x SIZE PNG of its centre square; ValueError when it is not a
    picture of one of FORMATS within MAX_PIXELS."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                width, height = image.size
                if width < 1 or height < 1 or width * height > MAX_PIXELS:
                    raise ValueError("too many pixels")
                image.load()  # decoded here, bounded: the size was checked first
                picture = ImageOps.exif_transpose(image) or image
                picture = ImageOps.fit(picture.convert("RGBA"), (SIZE, SIZE))
    except ValueError:
        raise
    except Exception as exc:  # what a hostile file makes a decoder raise, whatever it is
        raise ValueError(f"{type(exc).__name__}: {exc}") from None
    out = io.BytesIO()
    picture.save(out, "PNG", optimize=True)  # no info, no EXIF: pixels only
    return out.getvalue()


class Avatars:
    def __init__(self, directory: Path) -> None:
        self._dir = directory

    async def store(self, user_id: int, data: bytes) -> str:
        """Keep the picture ``data`` for the user; its file's name."""
        if not data:
            raise ChatError(Code.VALIDATION_ERROR, "send the picture's bytes as the body")
        if len(data) > MAX_AVATAR_BYTES:
            raise ChatError(
                Code.PAYLOAD_TOO_LARGE, f"a picture may be at most {MAX_AVATAR_BYTES} bytes"
            )
        try:
            png = await asyncio.to_thread(_thumbnail, data)
        except ValueError:
            raise ChatError(
                Code.VALIDATION_ERROR,
                "not a picture this server reads (PNG, JPEG, GIF or WebP, at most "
                f"{MAX_PIXELS} pixels)",
            ) from None
        name = hashlib.sha256(png).hexdigest()[:32] + ".png"
        await asyncio.to_thread(self._write, user_id, name, png)
        return name

    def _write(self, user_id: int, name: str, png: bytes) -> None:
        folder = self._dir / str(user_id)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        if target.exists():
            return
        partial = folder / f".{name}.{os.getpid()}.part"
        partial.write_bytes(png)
        os.replace(partial, target)  # whole or absent, never half written
        # A user's older pictures go, but the last few (an event in flight may still
        # name one): the disk a user can fill is bounded.
        try:
            kept = sorted(folder.glob("*.png"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in kept[KEPT_PER_USER:]:
                old.unlink(missing_ok=True)
        except OSError:
            pass  # another upload of theirs is tidying at the same time: it will do

    def path(self, user_id: int, name: str) -> Path | None:
        """The stored file by that name, or None (a name not of ours included)."""
        if not _NAME.fullmatch(name):
            return None
        found = self._dir / str(user_id) / name
        return found if found.is_file() else None
