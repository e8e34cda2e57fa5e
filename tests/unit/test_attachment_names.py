"""Issue 24: uploaded file names kept safe and served in a safe Content-Disposition
(roomchat/files/names.py)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from roomchat.files.names import content_disposition, safe_filename


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\system32\\evil.exe", "evil.exe"),
        ("report\x00.pdf", "report.pdf"),
        ("invoice_\u202efdp.exe", "invoice_fdp.exe"),
        ("a\r\nb.txt", "ab.txt"),
        (".hidden", "hidden"),
        ("", "file"),
        (None, "file"),
        ("/", "file"),
        ("caf\u00e9.png", "caf\u00e9.png"),
    ],
)
def test_names_are_made_safe(raw: str | None, kept: str) -> None:
    assert safe_filename(raw) == kept


def test_a_long_name_keeps_its_extension() -> None:
    name = safe_filename("a" * 1000 + ".png")
    assert len(name) == 255 and name.endswith(".png")


@pytest.mark.parametrize(
    "raw", ['quote"and;semi.txt', "r\u00e9sum\u00e9 \u2603.pdf", "x%41.txt", "a\\b/c.txt"]
)
def test_the_disposition_is_ascii_and_carries_the_utf8_name(raw: str) -> None:
    header = content_disposition(raw, inline=False)
    assert header.isascii()
    assert header.startswith('attachment; filename="')
    ascii_name = header.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in ascii_name and "\\" not in ascii_name and ";" not in ascii_name
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == safe_filename(raw)


def test_images_may_be_inline() -> None:
    assert content_disposition("a.png", inline=True).startswith("inline;")
