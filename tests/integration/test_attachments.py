"""Issue 24: files and images in messages, through a real server on SQLite and
PostgreSQL with the local file store: upload, attach, the message object everywhere,
signed downloads that never run in the chat's origin, rights, and bounds."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from PIL import Image

from roomchat.files.local import UrlSigner
from tests.support.client import Account, Api, Ws, history, marker
from tests.support.files import (
    MAKE,
    bomb_png,
    eventually,
    fetch,
    jpeg,
    png,
    rss_bytes,
    stored_objects,
    upload,
)
from tests.support.server import ServerProcess, module_server, running_server

MiB = 1024 * 1024
JWT_SECRET = "integration-test-secret-that-is-long-enough-1234"  # tests/support/server.py


@pytest.fixture(scope="module")
def files_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(
        backend,
        tmp_path_factory,
        "files",
        upload_rate_limit="1000/minute",
        join_rate_per_second="1000",
        join_burst="1000",
        edit_rate_per_second="1000",
        edit_burst="1000",
        workspace_storage_quota_bytes=str(3 * MiB),
    ) as process:
        yield process


@pytest.fixture
async def api(files_server: ServerProcess) -> AsyncIterator[Api]:
    client = Api(files_server.base_url)
    yield client
    await client.aclose()


@dataclass
class Scene:
    alice: Account  # made the workspace and the room
    bob: Account  # in the room
    carol: Account  # in the workspace, not in the room
    dave: Account  # in another workspace
    room: dict[str, Any]
    other_room: dict[str, Any]  # alice's second room (bob not in it)
    dave_room: dict[str, Any]

    @property
    def rid(self) -> int:
        return int(self.room["id"])


@pytest.fixture
async def scene(api: Api) -> Scene:
    alice, bob, carol, dave = [await api.register(n) for n in ("alice", "bob", "carol", "dave")]
    workspace = await api.workspace(alice, bob, carol)
    room = await api.room(alice, workspace["id"])
    other = await api.room(alice, workspace["id"])
    await api.call("POST", f"/api/v1/room-chats/join/{room['link_token']}", bob)
    dave_ws = await api.workspace(dave)
    dave_room = await api.room(dave, dave_ws["id"])
    return Scene(alice, bob, carol, dave, room, other, dave_room)


async def post(api: Api, account: Account, room_id: int, **body: Any) -> Any:
    return await api.call("POST", f"/api/v1/room-chats/{room_id}/messages", account, 201, json=body)


def files_dir(server: ServerProcess) -> Path:
    return server.data_dir / "files"


async def test_an_image_goes_to_the_room_with_a_thumbnail_and_fresh_urls(
    files_server: ServerProcess, api: Api, scene: Scene
) -> None:
    photo = jpeg(64, 32, orientation=6)  # a phone held upright: shown 32 x 64
    a = await Ws.connect(files_server.ws_url, scene.alice)
    b = await Ws.connect(files_server.ws_url, scene.bob)
    try:
        await a.join(scene.rid)
        await b.join(scene.rid)
        up = await upload(
            api, scene.alice, scene.rid, photo, "holiday.jpg", client_type="text/html"
        )
        assert up["content_type"] == "image/jpeg"  # sniffed, not the client's word
        assert (up["filename"], up["size"]) == ("holiday.jpg", len(photo))
        assert (up["width"], up["height"]) == (32, 64)
        assert up["url"] and up["thumbnail_url"]

        # An empty text is fine with a file; bob sees the message with it.
        reply = await a.request(
            "send_room_chat_message",
            {"room_id": scene.rid, "message_text": "", "attachment_ids": [up["id"]]},
        )
        assert reply["status"] == "success", reply
        message = reply["data"]
        seen = await b.wait_for(
            lambda f: (
                f.get("action") == "new_room_chat_message" and f["data"]["id"] == message["id"]
            )
        )
        shown = seen["data"]["attachments"]
        assert [x["id"] for x in shown] == [up["id"]]
        assert list(shown[0]) == [
            "id",
            "room_id",
            "filename",
            "content_type",
            "size",
            "width",
            "height",
            "url",
            "thumbnail_url",
            "created_at",
        ]

        # What a browser does with the URLs: no Authorization header.
        full = fetch(shown[0]["url"])
        assert full.status_code == 200
        assert full.content == photo
        assert full.headers["content-type"] == "image/jpeg"
        assert full.headers["content-disposition"].startswith("inline;")
        assert "sandbox" in full.headers.get_list("content-security-policy")[-1] or any(
            "sandbox" in v for v in full.headers.get_list("content-security-policy")
        )
        assert full.headers["x-content-type-options"] == "nosniff"
        thumb = fetch(shown[0]["thumbnail_url"])
        assert thumb.status_code == 200
        assert thumb.headers["content-type"] == "image/webp"
        with Image.open(io.BytesIO(thumb.content)) as small:
            assert small.width < small.height  # the orientation applied
            assert MAKE not in small.getexif() and len(small.getexif()) == 0  # no EXIF
            assert small.info.get("exif") is None

        # History, the events page and a later join show it, with URLs minted again.
        page = await history(api, scene.bob, scene.rid)
        listed = next(m for m in page["messages"] if m["id"] == message["id"])
        assert listed["attachments"][0]["id"] == up["id"]
        assert fetch(listed["attachments"][0]["url"]).content == photo
        events = await api.call(
            "GET", f"/api/v1/room-chats/{scene.rid}/events", scene.bob, params={"after_seq": 0}
        )
        new = [e for e in events["events"] if e["action"] == "new_room_chat_message"]
        assert new[-1]["data"]["attachments"][0]["id"] == up["id"]
        c = await Ws.connect(files_server.ws_url, scene.bob)
        try:
            joined = await c.join(scene.rid)
            last = joined["data"]["messages"][-1]
            assert last["attachments"][0]["id"] == up["id"]
            assert fetch(last["attachments"][0]["thumbnail_url"]).status_code == 200
        finally:
            await c.close()

        # A fresh URL on request, for a member; the files tab lists it.
        fresh = await api.call("GET", f"/api/v1/attachments/{up['id']}", scene.bob)
        assert fetch(fresh["url"]).content == photo
        tab = await api.call("GET", f"/api/v1/room-chats/{scene.rid}/attachments", scene.bob)
        assert [x["id"] for x in tab["attachments"]][:1] == [up["id"]]
        assert tab["has_more"] is False
    finally:
        for conn in (a, b):
            await marker(conn)
            await conn.close()


async def test_the_sidebar_and_followed_threads_show_files_with_working_urls(
    files_server: ServerProcess, api: Api, scene: Scene
) -> None:
    """Not only history: the room list's last message, a following connection's
    room_activity and a followed thread's root carry their files' URLs, minted."""
    photo = png(20, 10)
    b = await Ws.connect(files_server.ws_url, scene.bob)
    try:
        workspace_id = scene.room["workspace_id"]
        assert (await b.request("subscribe_workspace", {"workspace_id": workspace_id}))[
            "status"
        ] == "success"
        up = await upload(api, scene.alice, scene.rid, photo, "chart.png")
        root = await post(api, scene.alice, scene.rid, message_text="", attachment_ids=[up["id"]])
        activity = await b.wait_for(
            lambda f: (
                f.get("action") == "room_activity"
                and (f["data"]["last_message"] or {}).get("id") == root["id"]
            )
        )
        shown = activity["data"]["last_message"]["attachments"][0]
        assert fetch(shown["url"]).content == photo
        assert fetch(shown["thumbnail_url"]).status_code == 200

        rooms = await api.call("GET", f"/api/v1/room-chats/workspace/{workspace_id}", scene.bob)
        rows = rooms["rooms"] if isinstance(rooms, dict) else rooms
        row = next(r for r in rows if r["id"] == scene.rid)
        listed = row["last_message"]["attachments"][0]
        assert listed["id"] == up["id"]
        assert fetch(listed["url"]).content == photo

        # bob replies, so he follows the thread; its root shows the file.
        await post(api, scene.bob, scene.rid, message_text="nice", thread_root_id=root["id"])
        followed = await api.call("GET", f"/api/v1/workspaces/{workspace_id}/threads", scene.bob)
        entry = next(t for t in followed["threads"] if t["thread_root_id"] == root["id"])
        assert fetch(entry["root"]["attachments"][0]["url"]).content == photo
    finally:
        await marker(b)
        await b.close()


async def test_attachments_keep_the_order_the_sender_gave(
    files_server: ServerProcess, api: Api, scene: Scene
) -> None:
    """Uploaded first, second, third; attached third, first, second: shown so everywhere."""
    ups = [await upload(api, scene.alice, scene.rid, png(4, 4), f"{n}.png") for n in range(3)]
    order = [ups[2]["id"], ups[0]["id"], ups[1]["id"]]
    b = await Ws.connect(files_server.ws_url, scene.bob)
    try:
        await b.join(scene.rid)
        sent = await post(api, scene.alice, scene.rid, message_text="", attachment_ids=order)
        assert [x["id"] for x in sent["attachments"]] == order
        heard = await b.wait_for(
            lambda f: f.get("action") == "new_room_chat_message" and f["data"]["id"] == sent["id"]
        )
        assert [x["id"] for x in heard["data"]["attachments"]] == order
        page = await history(api, scene.bob, scene.rid)
        stored = next(m for m in page["messages"] if m["id"] == sent["id"])
        assert [x["id"] for x in stored["attachments"]] == order
        events = await api.call(
            "GET", f"/api/v1/room-chats/{scene.rid}/events", scene.bob, params={"after_seq": 0}
        )
        logged = next(
            e
            for e in events["events"]
            if e["action"] == "new_room_chat_message" and e["data"]["id"] == sent["id"]
        )
        assert [x["id"] for x in logged["data"]["attachments"]] == order
        edited = await b.request(
            "add_room_chat_reaction",
            {"room_id": scene.rid, "message_id": sent["id"], "reaction": "👍"},
        )
        assert edited["status"] == "success", edited
        assert [x["id"] for x in edited["data"]["message"]["attachments"]] == order
    finally:
        await marker(b)
        await b.close()


async def test_a_message_with_files_sent_again_is_the_stored_one(
    files_server: ServerProcess, api: Api, scene: Scene
) -> None:
    """A resend after a lost reply (same client_msg_id) is answered with the stored message,
    its files in it, though they are no longer free uploads; other files are a conflict."""
    first, second = [
        await upload(api, scene.alice, scene.rid, png(4, 4), f"{n}.png") for n in (1, 2)
    ]
    body = {"message_text": "", "client_msg_id": "files-once", "attachment_ids": [first["id"]]}
    path = f"/api/v1/room-chats/{scene.rid}/messages"
    stored = await api.call("POST", path, scene.alice, 201, json=body)
    again = await api.call("POST", path, scene.alice, 200, json=body)
    assert again["id"] == stored["id"]
    assert [x["id"] for x in again["attachments"]] == [first["id"]]
    assert fetch(again["attachments"][0]["url"]).status_code == 200
    a = await Ws.connect(files_server.ws_url, scene.alice)
    try:
        await a.join(scene.rid)
        payload = {"room_id": scene.rid, **body}
        by_socket = await a.request("send_room_chat_message", payload)
        assert by_socket["status"] == "success", by_socket
        assert by_socket["data"]["id"] == stored["id"]
        other = await a.request(
            "send_room_chat_message", {**payload, "attachment_ids": [second["id"]]}
        )
        assert other["status"] == "error"
        assert other["error"]["code"] == "conflict"
    finally:
        await marker(a)
        await a.close()
    page = await history(api, scene.alice, scene.rid)
    assert [m["id"] for m in page["messages"] if m["client_msg_id"] == "files-once"] == [
        stored["id"]
    ]
    # The other upload was not taken: it can still be sent.
    sent = await post(api, scene.alice, scene.rid, message_text="", attachment_ids=[second["id"]])
    assert [x["id"] for x in sent["attachments"]] == [second["id"]]


async def test_a_message_with_files_may_be_edited_to_no_text_others_may_not(
    files_server: ServerProcess, api: Api, scene: Scene
) -> None:
    a = await Ws.connect(files_server.ws_url, scene.alice)
    try:
        await a.join(scene.rid)
        up = await upload(api, scene.alice, scene.rid, png(8, 8), "dot.png")
        with_file = await post(
            api, scene.alice, scene.rid, message_text="caption", attachment_ids=[up["id"]]
        )
        plain = await post(api, scene.alice, scene.rid, message_text="words")

        def edit(message_id: int, text: str) -> Any:
            body = {"room_id": scene.rid, "message_id": message_id, "message_text": text}
            return a.request("edit_room_chat_message", body)

        done = await edit(with_file["id"], "")
        assert done["status"] == "success", done
        assert done["data"]["message"]["message_text"] == ""
        assert [x["id"] for x in done["data"]["message"]["attachments"]] == [up["id"]]

        refused = await edit(plain["id"], "  ")
        assert refused["status"] == "error"
        assert refused["error"]["code"] == "validation_error"
        page = await history(api, scene.alice, scene.rid)
        assert next(m for m in page["messages"] if m["id"] == plain["id"])["message_text"] == (
            "words"
        )
    finally:
        await marker(a)
        await a.close()


async def test_markup_and_scripts_are_downloads_never_pages(api: Api, scene: Scene) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'
    html = b"<!doctype html><script>fetch('/api/v1/auth/me')</script>"
    for content, name in ((svg, "logo.svg"), (html, "page.html")):
        up = await upload(api, scene.alice, scene.rid, content, name, client_type="image/svg+xml")
        assert up["content_type"] == "text/plain; charset=utf-8"
        assert (up["width"], up["height"], up["thumbnail_url"]) == (None, None, None)
        got = fetch(up["url"])
        assert got.status_code == 200
        assert got.content == content
        assert got.headers["content-type"].startswith("text/plain")
        assert got.headers["content-disposition"].startswith("attachment;")
        assert any("sandbox" in v for v in got.headers.get_list("content-security-policy"))
        assert got.headers["x-content-type-options"] == "nosniff"


async def test_a_signed_url_is_bound_to_its_file_and_time(api: Api, scene: Scene) -> None:
    up = await upload(api, scene.alice, scene.rid, b"private notes", "notes.txt")
    other = await upload(api, scene.alice, scene.rid, b"other notes", "other.txt")
    base, _, query = up["url"].partition("?")
    assert fetch(f"{base}?{query}").status_code == 200
    assert fetch(base).status_code in (404, 422)  # no signature
    tampered = other["url"].split("?")[0] + "?" + query  # up's signature, other's id
    assert fetch(tampered).status_code == 404
    # A well signed URL past its time (signed here with the test servers' key).
    signer = UrlSigner(JWT_SECRET)
    past = int(time.time()) - 60
    assert fetch(f"{base}?exp={past}&sig={signer.sign(up['id'], False, past)}").status_code == 404
    future = int(time.time()) + 600
    assert (
        fetch(f"{base}?exp={future}&sig={signer.sign(up['id'], False, future)}").status_code == 200
    )


async def test_who_may_upload_fetch_and_attach(
    files_server: ServerProcess, api: Api, scene: Scene
) -> None:
    before = stored_objects(files_dir(files_server))
    # Not in the room, another workspace, nobody: refused, nothing stored.
    await upload(api, scene.carol, scene.rid, b"x", expect=403)
    await upload(api, scene.dave, scene.rid, b"x", expect=403)
    await upload(api, None, scene.rid, b"x", expect=401)
    assert stored_objects(files_dir(files_server)) == before

    up = await upload(api, scene.alice, scene.rid, png(), "a.png")
    # Another workspace's member gets forbidden and no data, whatever the id.
    err = await api.call("GET", f"/api/v1/attachments/{up['id']}", scene.dave, 403)
    assert err["code"] == "forbidden" and "filename" not in str(err)
    await api.call("GET", f"/api/v1/attachments/{10**12}", scene.dave, 403)
    await api.call("GET", f"/api/v1/room-chats/{scene.rid}/attachments", scene.carol, 403)
    await api.call("GET", f"/api/v1/room-chats/{scene.rid}/attachments", scene.dave, 403)
    # An unsent upload is its uploader's alone.
    await api.call("GET", f"/api/v1/attachments/{up['id']}", scene.bob, 403)

    # Attaching: only your own uploads to that room, once.
    path = f"/api/v1/room-chats/{scene.rid}/messages"
    body = {"message_text": "mine?", "attachment_ids": [up["id"]]}
    assert (await api.call("POST", path, scene.bob, 403, json=body))["code"] == "forbidden"
    other_path = f"/api/v1/room-chats/{scene.other_room['id']}/messages"
    await api.call("POST", other_path, scene.alice, 403, json=body)
    dave_path = f"/api/v1/room-chats/{scene.dave_room['id']}/messages"
    await api.call("POST", dave_path, scene.dave, 403, json=body)
    sent = await post(api, scene.alice, scene.rid, **body)
    assert [x["id"] for x in sent["attachments"]] == [up["id"]]
    again = await api.call("POST", path, scene.alice, 409, json=body)
    assert again["code"] == "conflict"
    # Now it is in a message: the room's members may see it.
    await api.call("GET", f"/api/v1/attachments/{up['id']}", scene.bob)

    many = {"message_text": "", "attachment_ids": list(range(1, 12))}
    assert (await api.call("POST", path, scene.alice, 422, json=many))["code"] == "validation_error"
    # Empty text without files is still refused.
    await api.call("POST", path, scene.alice, 422, json={"message_text": " "})


async def test_bad_uploads_are_refused_and_store_nothing(
    files_server: ServerProcess, api: Api, scene: Scene
) -> None:
    before = stored_objects(files_dir(files_server))
    rid = scene.rid
    assert (await upload(api, scene.alice, rid, b"", "empty.txt", expect=422))["code"] == (
        "validation_error"
    )
    await upload(api, scene.alice, rid, b"abc", field="attachment", expect=422)
    response = await api.http.post(
        f"/api/v1/room-chats/{rid}/attachments",
        headers={**scene.alice.headers, "Content-Type": "application/json"},
        content=b'{"file": "abc"}',
    )
    assert response.status_code == 422, response.text
    # A JPEG's first bytes on an HTML body: not an image, refused.
    fake = b"\xff\xd8\xff\xe0" + b"<html><script>alert(1)</script></html>" * 20
    err = await upload(api, scene.alice, rid, fake, "cat.jpg", expect=422)
    assert "image" in err["message"]
    # A decompression bomb: refused from its header, the server's memory untouched.
    pid = files_server.process.pid  # type: ignore[union-attr]
    rss = rss_bytes(pid)
    err = await upload(api, scene.alice, rid, bomb_png(), "bomb.png", expect=422)
    assert "pixels" in err["message"]
    assert rss_bytes(pid) - rss < 32 * MiB
    assert stored_objects(files_dir(files_server)) == before


@pytest.mark.parametrize(
    "raw",
    [
        "../../etc/passwd",
        "C:\\Windows\\evil.exe",
        "report\x00.pdf",
        "invoice_\u202efdp.exe",
        "a" * 1000 + ".png",
        'quote"and;semi\r\nX-Injected: 1.txt',
    ],
)
async def test_hostile_filenames_are_stored_and_served_safely(
    api: Api, scene: Scene, raw: str
) -> None:
    response = await api.http.post(
        f"/api/v1/room-chats/{scene.rid}/attachments",
        headers=scene.alice.headers,
        files={"file": (raw, b"hello", "text/plain")},
    )
    assert response.status_code == 201, response.text
    up = response.json()["data"]
    name = up["filename"]
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert "\u202e" not in name and "\r" not in name and "\n" not in name
    assert 0 < len(name) <= 255
    got = fetch(up["url"])
    disposition = got.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "X-Injected" not in got.headers
    ascii_part = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert all(0x20 <= ord(c) < 0x7F for c in ascii_part) and "/" not in ascii_part
    utf8 = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert utf8 == name


async def test_a_26_mib_body_is_refused_while_streaming(
    files_server: ServerProcess, api: Api, scene: Scene
) -> None:
    pid = files_server.process.pid  # type: ignore[union-attr]
    before_objects = stored_objects(files_dir(files_server))
    big = b"\x00" * (26 * MiB)
    rss = rss_bytes(pid)
    # With a Content-Length: answered before the body is read, saying the limit.
    err = await upload(api, scene.alice, scene.rid, big, "big.bin", expect=413)
    assert err["code"] == "payload_too_large"
    assert err["details"] == {"max_upload_bytes": 25 * MiB}
    assert "25 MiB" in err["message"]

    # Without one (chunked): counted as it streams, refused at the limit.
    async def chunks() -> AsyncIterator[bytes]:
        boundary = b"--xyz"
        yield (
            boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="b.bin"\r\n\r\n'
        )
        for start in range(0, len(big), MiB):
            yield big[start : start + MiB]
        yield b"\r\n" + boundary + b"--\r\n"

    try:
        response = await api.http.post(
            f"/api/v1/room-chats/{scene.rid}/attachments",
            headers={**scene.alice.headers, "Content-Type": "multipart/form-data; boundary=xyz"},
            content=chunks(),
        )
        assert response.status_code == 413, response.text
    except httpx.RemoteProtocolError:
        pass  # the server may close while the client still writes: refused all the same
    assert rss_bytes(pid) - rss < 32 * MiB
    assert stored_objects(files_dir(files_server)) == before_objects
    assert not list((files_dir(files_server) / "tmp").glob("upload-*"))


async def test_the_workspace_quota(api: Api, scene: Scene) -> None:
    blob = b"\x01" * (int(1.2 * MiB))
    await upload(api, scene.alice, scene.rid, blob, "one.bin")
    await upload(api, scene.bob, scene.rid, blob, "two.bin")
    err = await upload(api, scene.alice, scene.rid, blob, "three.bin", expect=413)
    assert err["code"] == "quota_exceeded"


async def test_deleting_a_message_removes_its_files(
    files_server: ServerProcess, api: Api, scene: Scene
) -> None:
    up = await upload(api, scene.alice, scene.rid, png(), "gone.png")
    key = f"{scene.rid}/{up['id']}"
    assert key in stored_objects(files_dir(files_server))
    sent = await post(
        api, scene.alice, scene.rid, message_text="soon gone", attachment_ids=[up["id"]]
    )
    a = await Ws.connect(files_server.ws_url, scene.alice)
    try:
        await a.join(scene.rid)
        reply = await a.request(
            "delete_room_chat_message", {"room_id": scene.rid, "message_id": sent["id"]}
        )
        assert reply["status"] == "success", reply
        assert reply["data"]["message"]["attachments"] == []  # the tombstone keeps none
    finally:
        await marker(a)
        await a.close()
    await eventually(lambda: key not in stored_objects(files_dir(files_server)))
    assert f"{key}.thumb" not in stored_objects(files_dir(files_server))
    assert fetch(up["url"]).status_code == 404
    await api.call("GET", f"/api/v1/attachments/{up['id']}", scene.alice, 403)
    page = await history(api, scene.alice, scene.rid)
    assert [m["attachments"] for m in page["messages"] if m["id"] == sent["id"]] == [[]]


async def test_the_python_client_uploads_and_sends(
    files_server: ServerProcess, scene: Scene, tmp_path: Path
) -> None:
    from roomchat.client import Client, NewMessage

    photo = tmp_path / "from-disk.png"
    photo.write_bytes(png(20, 10))
    async with (
        Client(files_server.base_url, token=scene.alice.token) as alice,
        Client(files_server.base_url, token=scene.bob.token) as bob,
    ):
        await alice.join(scene.rid)
        await bob.join(scene.rid)
        first = await alice.upload(scene.rid, photo)
        second = await alice.upload(scene.rid, b"%PDF-1.4 tiny", filename="spec.pdf")
        assert (first.filename, first.content_type, first.width) == (
            "from-disk.png",
            "image/png",
            20,
        )
        assert (second.content_type, second.thumbnail_url) == ("application/pdf", None)
        sent = await alice.send(scene.rid, "", attachment_ids=[first.id, second.id])
        got: tuple[Any, ...] = ()
        assert [a.id for a in sent.attachments] == [first.id, second.id]
        async with asyncio.timeout(10):
            async for event in bob.events():
                if isinstance(event, NewMessage) and event.message.id == sent.id:
                    got = event.message.attachments
                    break
        assert [a.filename for a in got] == ["from-disk.png", "spec.pdf"]
        assert fetch(got[1].url or "").content == b"%PDF-1.4 tiny"
        fresh = await bob.attachment(first.id)
        assert fetch(fresh.thumbnail_url or "").status_code == 200
        files, more = await bob.room_attachments(scene.rid)
        assert {a.id for a in files} >= {first.id, second.id} and more is False


async def test_the_files_tab_pages_newest_first(api: Api, scene: Scene) -> None:
    ids = []
    for n in range(3):
        up = await upload(api, scene.alice, scene.rid, f"file {n}".encode(), f"f{n}.txt")
        await post(api, scene.alice, scene.rid, message_text="", attachment_ids=[up["id"]])
        ids.append(up["id"])
    unsent = await upload(api, scene.alice, scene.rid, b"draft", "draft.txt")
    path = f"/api/v1/room-chats/{scene.rid}/attachments"
    first = await api.call("GET", path, scene.bob, params={"limit": 2})
    assert [a["id"] for a in first["attachments"]] == [ids[2], ids[1]] and first["has_more"]
    rest = await api.call(
        "GET", path, scene.bob, params={"limit": 2, "before_id": first["attachments"][-1]["id"]}
    )
    assert [a["id"] for a in rest["attachments"]] == [ids[0]] and not rest["has_more"]
    assert unsent["id"] not in [a["id"] for a in first["attachments"] + rest["attachments"]]
    await api.call("GET", path, scene.bob, 422, params={"limit": 101})


async def test_uploads_per_user_are_rate_limited(backend: str, tmp_path: Path) -> None:
    if backend != "sqlite":
        pytest.skip("one backend is enough for a per-instance counter")
    with running_server("sqlite", tmp_path, upload_rate_limit="2/minute") as server:
        api = Api(server.base_url)
        try:
            alice = await api.register("alice")
            room = await api.room(alice, (await api.workspace(alice))["id"])
            await upload(api, alice, room["id"], b"one")
            await upload(api, alice, room["id"], b"two")
            before = stored_objects(server.data_dir / "files")
            err = await upload(api, alice, room["id"], b"three", expect=429)
            assert err["code"] == "rate_limited" and err["retry_after_ms"] > 0
            assert stored_objects(server.data_dir / "files") == before
            bob = await api.register("bob")  # another user has a count of their own
            await api.add_member(alice, room["workspace_id"], bob)
            await api.call("POST", f"/api/v1/room-chats/join/{room['link_token']}", bob)
            await upload(api, bob, room["id"], b"bob's")
        finally:
            await api.aclose()


async def test_after_leaving_a_room_old_urls_work_until_they_expire_new_ones_are_refused(
    api: Api, scene: Scene
) -> None:
    up = await upload(api, scene.alice, scene.rid, png(), "team.png")
    await post(api, scene.alice, scene.rid, message_text="", attachment_ids=[up["id"]])
    served = await api.call("GET", f"/api/v1/attachments/{up['id']}", scene.bob)
    await api.call("DELETE", f"/api/v1/room-users/room/{scene.rid}/users/{scene.bob.id}", scene.bob)
    # What bob was served still works (a capability, until its exp: docs/security.md) ...
    assert fetch(served["url"]).status_code == 200
    # ... but he gets no new URL, history or list.
    await api.call("GET", f"/api/v1/attachments/{up['id']}", scene.bob, 403)
    await api.call("GET", f"/api/v1/room-chats/{scene.rid}/attachments", scene.bob, 403)
    await api.call("GET", f"/api/v1/room-chats/{scene.rid}/messages", scene.bob, 403)
