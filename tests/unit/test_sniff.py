"""Issue 24: an upload's type comes from its bytes (roomchat/files/sniff.py)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from roomchat.files.sniff import OCTET_STREAM, RASTER_IMAGES, TEXT, sniff


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_the_raster_images_are_told_exactly(fmt: str, kind: str) -> None:
    assert sniff(_image(fmt)[:512]) == kind
    assert kind in RASTER_IMAGES


@pytest.mark.parametrize(
    "head",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"<!doctype html><html><script>x()</script>",
        b"#!/bin/sh\nrm -rf /\n",
        "caf\u00e9 \u2603".encode(),
    ],
)
def test_markup_and_scripts_are_text_never_a_page_type(head: bytes) -> None:
    assert sniff(head) == TEXT


def test_what_is_not_known_is_bytes() -> None:
    assert sniff(b"\x00\x01\x02\xfe\xff") == OCTET_STREAM
    assert sniff(b"%PDF-1.7\n") == "application/pdf"
    assert sniff(b"PK\x03\x04rest") == "application/zip"
    assert "image/svg+xml" not in RASTER_IMAGES


def test_a_utf8_character_cut_at_the_end_is_still_text() -> None:
    assert sniff("ab\u2603".encode()[:-1]) == TEXT
