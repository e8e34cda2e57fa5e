"""Uploaded files' names: kept safe to store and to show, and served in a
``Content-Disposition`` that no browser reads as a path or as markup (RFC 6266, with
RFC 8187's ``filename*`` for the name's UTF-8)."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

MAX_FILENAME_CHARS = 255
DEFAULT_NAME = "file"


def safe_filename(raw: str | None) -> str:
    """The name a client gave, as roomchat keeps it: its last path part (no ``/`` or
    ``\\``), no control or format characters (NUL, newlines, the bidirectional overrides
    that make ``exe.txt`` of ``txt.exe``), no leading dots, at most 255 characters (the
    extension kept); ``file`` when nothing is left."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C"
    )
    name = name.strip().lstrip(".").strip()
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16 and stem:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS]
    return name or DEFAULT_NAME


def content_disposition(filename: str, inline: bool) -> str:
    """``attachment`` (or ``inline``) with an ASCII ``filename`` for old readers and the
    UTF-8 name in ``filename*``."""
    name = safe_filename(filename)
    ascii_name = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\%;' else "_" for ch in name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
