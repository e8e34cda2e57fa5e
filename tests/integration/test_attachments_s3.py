"""Issue 24: the S3-compatible file store, against a real S3 server process (moto's
standalone server, started here; ROOMCHAT_TEST_S3_ENDPOINT points the same tests at
real S3 or MinIO). Uploads pass through roomchat, downloads are the store's presigned
GET URLs, and deleting a message removes its objects from the bucket."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.client import Api, Ws, marker
from tests.support.files import S3Target, fetch, jpeg, s3_server, upload
from tests.support.server import ServerProcess, module_server


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Target]:
    with s3_server(tmp_path_factory.mktemp("moto"), f"roomchat-{uuid.uuid4().hex[:8]}") as target:
        yield target


@pytest.fixture(scope="module")
def s3_roomchat(
    backend: str, s3: S3Target, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    with module_server(
        backend,
        tmp_path_factory,
        "s3",
        upload_rate_limit="1000/minute",
        attachment_sweep_interval_s="0.2",
        attachment_orphan_grace_s="0",
        **s3.settings(),
    ) as process:
        yield process


@pytest.fixture
async def api(s3_roomchat: ServerProcess) -> AsyncIterator[Api]:
    client = Api(s3_roomchat.base_url)
    yield client
    await client.aclose()


async def eventually_gone(s3: S3Target, key: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while key in await asyncio.to_thread(s3.keys):
        assert time.monotonic() < deadline, f"{key} is still in the bucket"
        await asyncio.sleep(0.1)


async def test_files_live_in_the_bucket_and_download_from_it(
    s3_roomchat: ServerProcess, api: Api, s3: S3Target
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    workspace = await api.workspace(alice, bob)
    room = await api.room(alice, workspace["id"])
    await api.call("POST", f"/api/v1/room-chats/join/{room['link_token']}", bob)
    photo = jpeg(80, 40)
    up = await upload(api, alice, room["id"], photo, "photo.jpg")
    doc = await upload(api, alice, room["id"], b"<svg onload=alert(1)>", "x.svg")
    key = f"attachments/{room['id']}/{up['id']}"
    assert {key, key + ".thumb"} <= set(await asyncio.to_thread(s3.keys))

    sent = await api.call(
        "POST",
        f"/api/v1/room-chats/{room['id']}/messages",
        alice,
        201,
        json={"message_text": "from the bucket", "attachment_ids": [up["id"], doc["id"]]},
    )
    shown = {a["id"]: a for a in sent["attachments"]}
    assert shown[up["id"]]["url"].startswith(s3.endpoint)  # the store's own URL
    got = await asyncio.to_thread(fetch, shown[up["id"]]["url"])
    assert got.status_code == 200 and got.content == photo
    assert got.headers["content-type"] == "image/jpeg"
    thumb = await asyncio.to_thread(fetch, shown[up["id"]]["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    svg = await asyncio.to_thread(fetch, shown[doc["id"]]["url"])
    assert svg.headers["content-disposition"].startswith("attachment;")
    assert svg.headers["content-type"].startswith("text/plain")

    # bob, a member, gets a fresh presigned URL; the history mints them too.
    fresh = await api.call("GET", f"/api/v1/attachments/{up['id']}", bob)
    assert (await asyncio.to_thread(fetch, fresh["url"])).content == photo
    page = await api.call("GET", f"/api/v1/room-chats/{room['id']}/messages", bob)
    assert page["messages"][-1]["attachments"][0]["url"].startswith(s3.endpoint)

    ws = await Ws.connect(s3_roomchat.ws_url, alice)
    try:
        await ws.join(room["id"])
        reply = await ws.request(
            "delete_room_chat_message", {"room_id": room["id"], "message_id": sent["id"]}
        )
        assert reply["status"] == "success", reply
    finally:
        await marker(ws)
        await ws.close()
    await eventually_gone(s3, key)
    await eventually_gone(s3, key + ".thumb")


async def test_objects_no_row_names_are_swept(s3_roomchat: ServerProcess, s3: S3Target) -> None:
    """The server's sweep (every 0.2 s here, no grace) removes an object it never stored."""
    client = s3.client()
    key = "attachments/424242/424242"
    await asyncio.to_thread(client.put_object, Bucket=s3.bucket, Key=key, Body=b"orphan")
    await eventually_gone(s3, key)


async def test_the_web_client_may_show_images_from_the_bucket(api: Api, s3: S3Target) -> None:
    page = await api.http.get("/")
    policy = page.headers["content-security-policy"]
    img = next(d for d in policy.split(";") if d.strip().startswith("img-src"))
    assert s3.endpoint in img.split()
    assert "script-src 'self'" in policy  # nothing else loosened
