"""An upload's content type, from its first bytes: never from the client.

A small table of magic numbers is enough: the raster images roomchat makes thumbnails
of and shows inline (JPEG, PNG, GIF, WebP) must be told exactly; everything else is
served as a download (``Content-Disposition: attachment``) whatever it is called, so a
few common types are named for the reader's convenience and the rest is text or bytes.
"""

from __future__ import annotations

# The first bytes ``sniff`` wants (WebP's tag is at 8..12).
SNIFF_BYTES = 512

JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
# The raster images shown inline and given a thumbnail: nothing that can carry script.
RASTER_IMAGES = frozenset({JPEG, PNG, GIF, WEBP})
OCTET_STREAM = "application/octet-stream"
TEXT = "text/plain; charset=utf-8"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
)


def sniff(head: bytes) -> str:
    """The content type of a file starting with ``head`` (its first ``SNIFF_BYTES``)."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head and b"\x00" not in head and _utf8_prefix(head):
        return TEXT
    return OCTET_STREAM


def _utf8_prefix(head: bytes) -> bool:
    """Whether ``head`` is UTF-8 (a character cut at its end allowed)."""
    for cut in range(4):
        try:
            head[: len(head) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False
