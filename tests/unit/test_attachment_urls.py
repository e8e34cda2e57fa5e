"""Issue 24: attachments' signed URLs minted afresh wherever a message is served
(domain/attachments.py ``fresh``), and a message without files left as it is, byte for
byte and without a parse (the fan-out and join paths pay one substring test)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from roomchat import jsoncodec
from roomchat.domain.attachments import AttachmentLimits, AttachmentService
from roomchat.domain.events import message_data
from roomchat.domain.models import Attachment, Message, User
from roomchat.domain.rate_limits import RateLimiter
from roomchat.files.local import LocalFileStore, UrlSigner

NOW = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)


def service(tmp_path: Path, now: float) -> AttachmentService:
    files = LocalFileStore(tmp_path, "https://files.example.com", UrlSigner("secret"))
    return AttachmentService(
        rows=None,  # type: ignore[arg-type]  # fresh() reads no row
        files=files,
        rooms=None,  # type: ignore[arg-type]
        limits=AttachmentLimits(url_ttl_s=3600),
        uploads=RateLimiter("10/minute", "slow down"),
        origin="unit",
        wall=lambda: now,
    )


def message(*files: Attachment) -> Message:
    return Message(
        id=5,
        room_id=3,
        seq=9,
        user=User(1, "ann", "Ann", None),
        message_text="look",
        message_content=None,
        client_msg_id=None,
        created_at=NOW,
        attachments=files,
    )


def photo(url: str | None = None) -> Attachment:
    return Attachment(
        id=77, room_id=3, user_id=1, filename="a.png", content_type="image/png", size=10,
        width=4, height=2, created_at=NOW, has_thumbnail=True, url=url, thumbnail_url=url,
    )  # fmt: skip


def exp_of(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["exp"][0])


def test_a_message_without_files_is_the_same_bytes(tmp_path: Path) -> None:
    data = message_data(message())
    assert data.endswith(b'"attachments":[]}')
    assert service(tmp_path, 1_000_000.0).fresh(data) is data
    tricky = message_data(dataclasses.replace(message(), message_text='"attachments":[{"id":1}]'))
    assert service(tmp_path, 1_000_000.0).fresh(tricky) is tricky  # text is escaped


def test_urls_are_minted_again_with_a_later_expiry(tmp_path: Path) -> None:
    early = service(tmp_path, 1_000_000.0)
    stored = message_data(early.mint_message(message(photo())))
    shown: Any = jsoncodec.loads(stored)["attachments"][0]
    assert exp_of(shown["url"]) >= 1_000_000 + 3600
    assert shown["url"].startswith("https://files.example.com/api/v1/files/77?")
    assert "/api/v1/files/77/thumbnail?" in shown["thumbnail_url"]

    later = service(tmp_path, 1_000_000.0 + 7200)
    again: Any = jsoncodec.loads(later.fresh(stored))
    url = again["attachments"][0]["url"]
    assert exp_of(url) >= 1_000_000 + 7200 + 3600
    assert exp_of(url) % 60 == 0  # rounded up to the minute: a browser may cache it
    # Everything else is as stored.
    before: Any = jsoncodec.loads(stored)
    for obj in (before, again):
        for a in obj["attachments"]:
            a.pop("url"), a.pop("thumbnail_url")
    assert before == again


def test_a_non_image_gets_no_thumbnail_url(tmp_path: Path) -> None:
    doc = Attachment(
        id=78, room_id=3, user_id=1, filename="a.pdf", content_type="application/pdf",
        size=10, width=None, height=None, created_at=NOW,
    )  # fmt: skip
    event = jsoncodec.dumps({"room_id": 3, "message": message(doc).to_dict()})
    shown: Any = jsoncodec.loads(service(tmp_path, 5.0).fresh(event))
    [a] = shown["message"]["attachments"]
    assert a["url"] and a["thumbnail_url"] is None
