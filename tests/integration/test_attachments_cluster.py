"""Issue 24 on two instances sharing PostgreSQL, the broker and a files folder: a file
uploaded on instance A reaches B's client in the message, and B serves it (its own
signed URLs, the same key on both)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.cluster import Cluster, cluster, joined_clients, room_with
from tests.support.files import fetch, jpeg, upload
from tests.support.kafka import Broker


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    shared = tmp_path / "shared-files"
    with cluster(broker, tmp_path, 2, files_dir=str(shared)) as running:
        yield running


async def test_uploaded_on_a_served_by_b(two: Cluster) -> None:
    a, b = two.instances
    api_a, api_b = Api(a.base_url), Api(b.base_url)
    try:
        room, (alice, bob) = await room_with(api_a, 2)
        rid = room["id"]
        on_a, on_b = await joined_clients(two.instances, rid, [alice, bob])
        photo = jpeg(50, 20)
        up = await upload(api_a, alice, rid, photo, "from-a.jpg")
        sent = await on_a.request(
            "send_room_chat_message",
            {"room_id": rid, "message_text": "look", "attachment_ids": [up["id"]]},
        )
        assert sent["status"] == "success", sent

        def heard() -> list[dict]:  # type: ignore[type-arg]
            return [
                f["data"]
                for f in on_b.frames
                if f.get("action") == "new_room_chat_message"
                and f["data"]["id"] == sent["data"]["id"]
            ]

        await on_b.wait(lambda: bool(heard()), 30, "the message on B")
        shown = heard()[0]["attachments"][0]
        assert fetch(shown["url"]).content == photo
        # B mints its own URL (its own origin) and serves the file A stored.
        fresh = await api_b.call("GET", f"/api/v1/attachments/{up['id']}", bob)
        assert fresh["url"].startswith(b.base_url)
        got = fetch(fresh["url"])
        assert got.status_code == 200 and got.content == photo
        assert fetch(fresh["thumbnail_url"]).headers["content-type"] == "image/webp"
        for client in (on_a, on_b):
            await client.disconnect()
    finally:
        await api_a.aclose()
        await api_b.aclose()
