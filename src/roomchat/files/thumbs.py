"""Images checked and thumbnails made with Pillow, in a worker thread (never on the
event loop: decoding a large image takes long enough to stall every broadcast).

Pillow over pyvips: wheels for every platform roomchat runs on, no system library to
install (pyvips needs libvips), and it opens only the formats it is told to.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from roomchat.files.sniff import GIF, JPEG, PNG, WEBP

THUMBNAIL_SIZE = (400, 400)
THUMBNAIL_TYPE = "image/webp"
_FORMATS = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", WEBP: "WEBP"}


# How much less the thumbnail threads get of a busy CPU than the event loop (Linux
# niceness, per thread): a thumbnail may wait; a broadcast should not.
THUMBNAIL_NICENESS = 10


def lower_priority() -> None:
    """Run in each thumbnail worker as it starts: the OS then prefers the event loop's
    thread when both want the same core (an image decoded and encoded in the meantime
    otherwise takes its share of the loop's time slices, and every broadcast's p99 with
    it). Raising one's own niceness needs no privilege; where threads have no niceness
    of their own (not Linux) it changes nothing."""
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    me = threading.get_native_id()
    with contextlib.suppress(OSError):
        # Relative to the thread's own (the server may already run niced), at most 19.
        os.setpriority(
            os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + THUMBNAIL_NICENESS)
        )


class BadImage(Exception):
    """Not a readable image of its sniffed type, or too many pixels."""


@dataclass(frozen=True, slots=True)
class Thumbnail:
    width: int  # the full image's, EXIF orientation applied
    height: int
    path: Path  # the thumbnail (WebP, no metadata)


def make_thumbnail(source: Path, content_type: str, target: Path, max_pixels: int) -> Thumbnail:
    """Check ``source`` is an image of ``content_type`` with at most ``max_pixels``, and
    write its thumbnail to ``target``. Blocking: run it in a thread."""
    fmt = _FORMATS.get(content_type)
    if fmt is None:
        raise BadImage("not an image type roomchat shows")
    try:
        # Only the sniffed format's decoder may open it (Pillow's own bomb check, at
        # twice MAX_IMAGE_PIXELS, raises before any pixel is decoded too).
        with Image.open(source, formats=[fmt]) as image:
            # The header's size, before any pixel is decoded.
            width, height = image.size
            if width <= 0 or height <= 0 or width * height > max_pixels:
                raise BadImage(f"the image is larger than {max_pixels} pixels")
            image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at a reduced scale
            oriented = ImageOps.exif_transpose(image)
            oriented.thumbnail(THUMBNAIL_SIZE)
            if oriented.mode not in ("RGB", "RGBA"):
                oriented = oriented.convert("RGBA")
            # A new image's info holds no EXIF, ICC or XMP: nothing of the original's
            # metadata (a phone's GPS position) reaches the thumbnail.
            clean = Image.new(oriented.mode, oriented.size)
            clean.paste(oriented)
            clean.save(target, "WEBP", quality=80)
            if _turned(image):
                width, height = height, width
    except BadImage:
        raise
    except Image.DecompressionBombError:
        raise BadImage(f"the image is larger than {max_pixels} pixels") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadImage(f"not a readable image: {type(exc).__name__}") from None
    return Thumbnail(width, height, target)


def _turned(image: Image.Image) -> bool:
    """Whether the image's EXIF orientation turns it a quarter (5-8: width and height
    swap)."""
    try:
        orientation = image.getexif().get(0x0112, 1)
    except Exception:
        return False
    return orientation in (5, 6, 7, 8)
