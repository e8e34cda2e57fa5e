"""Profiles on a real server: a display name checked like a username, a picture cropped
to a square and stripped of everything but its pixels, served with nosniff; and the
change reaching the rooms, the followers and one's own connections (user_updated), with
old messages shown by the author's id."""

from __future__ import annotations

import io
import zlib
from typing import Any

from PIL import Image

from tests.support.client import Api, Ws, marker
from tests.support.server import ServerProcess

ME = "/api/v1/users/me"
AVATAR = "/api/v1/users/me/avatar"


def action(name: str, **fields: Any) -> Any:
    return lambda f: (
        f.get("action") == name and all(f["data"].get(k) == v for k, v in fields.items())
    )


def picture(width: int, height: int, fmt: str = "JPEG", **save: Any) -> bytes:
    """A picture with a red left half and a blue right half."""
    image = Image.new("RGB", (width, height), "blue")
    image.paste("red", (0, 0, width // 2, height))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    exif[0x0131] = "secret camera"  # Software
    return picture(600, 300, exif=exif.tobytes())


def bomb() -> bytes:
    """A tiny PNG whose header says 30000 x 30000 pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (30000).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    rows = zlib.compress(b"\x00" * 30001 * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


async def test_a_display_name_change_reaches_rooms_followers_and_old_messages(
    server: ServerProcess, api: Api
) -> None:
    owner, alice, bob = [await api.register(n) for n in ("owner", "alice", "bob")]
    ws = await api.workspace(owner, alice, bob)
    room = await api.room(owner, ws["id"])
    alice_ws = await Ws.connect(server.ws_url, alice)
    bob_ws = await Ws.connect(server.ws_url, bob)  # in the room
    watcher = await Ws.connect(server.ws_url, owner)  # follows the workspace, joined nothing
    try:
        await alice_ws.join(room["id"])
        await bob_ws.join(room["id"])
        old = await alice_ws.say(room["id"], "before the change")
        await watcher.request("subscribe_workspace", {"workspace_id": ws["id"]})

        before = await api.call("GET", ME, alice)
        bad_names = [
            "",
            "   ",
            "a\u202eb",
            "tab\there",
            "new\nline",
            "zero\u200bwidth",
            "\u200d",
            "x" * 65,
            None,
            12,
        ]
        for bad in bad_names:
            error = await api.call("PATCH", ME, alice, 422, json={"display_name": bad})
            assert error["code"] == "validation_error", bad
        assert await api.call("GET", ME, alice) == before

        me = await api.call("PATCH", ME, alice, json={"display_name": "  Alice Liddell "})
        assert me["display_name"] == "Alice Liddell" and me["username"] == alice.user["username"]
        expected = {
            "user_id": alice.id,
            "user": {k: me[k] for k in ("id", "username", "display_name", "avatar_url")},
        }
        for socket in (bob_ws, watcher, alice_ws):
            frame = await socket.wait_for(action("user_updated", user_id=alice.id))
            assert frame["data"] == expected
        # Old messages show the new name where they are read now (history), and what
        # alice's connection sends from now on carries it.
        page = await api.call("GET", f"/api/v1/room-chats/{room['id']}/messages", bob)
        [first] = [m for m in page["messages"] if m["id"] == old["id"]]
        assert first["user"]["display_name"] == "Alice Liddell"
        said = await alice_ws.say(room["id"], "after the change")
        assert said["user"]["display_name"] == "Alice Liddell"
        members = await api.call("GET", f"/api/v1/workspaces/{ws['id']}/members", owner)
        assert {m["user_id"]: m["user"]["display_name"] for m in members}[
            alice.id
        ] == "Alice Liddell"
        # The same name again tells nobody anything.
        await marker(bob_ws)  # (what came before: the messages)
        await api.call("PATCH", ME, alice, json={"display_name": "Alice Liddell"})
        assert [f["action"] for f in await marker(bob_ws)] == []
    finally:
        for socket in (alice_ws, bob_ws, watcher):
            await socket.close()


async def test_a_picture_is_cropped_stripped_and_served_with_nosniff(
    server: ServerProcess, api: Api
) -> None:
    owner, alice = await api.register("owner"), await api.register("alice")
    ws = await api.workspace(owner, alice)
    room = await api.room(owner, ws["id"])
    watcher = await Ws.connect(server.ws_url, owner)
    try:
        await watcher.join(room["id"])
        await api.call(
            "POST", f"/api/v1/room-users/room/{room['id']}", owner, 201, json={"user_id": alice.id}
        )
        upload = with_exif()
        assert b"secret description" in upload
        # The Content-Type says text/html: what it is comes from the bytes.
        response = await api.http.put(
            AVATAR, content=upload, headers={**alice.headers, "Content-Type": "text/html"}
        )
        assert response.status_code == 200, response.text
        me = response.json()["data"]
        url = me["avatar_url"]
        assert url.startswith(server.base_url) and url.endswith(".png")
        frame = await watcher.wait_for(action("user_updated", user_id=alice.id))
        assert frame["data"]["user"]["avatar_url"] == url

        served = await api.http.get(url.removeprefix(server.base_url))  # no token needed
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/png"
        assert served.headers["x-content-type-options"] == "nosniff"
        stored = served.content
        assert b"secret description" not in stored and b"Exif" not in stored
        image = Image.open(io.BytesIO(stored))
        assert (image.format, image.size) == ("PNG", (256, 256))
        assert not image.getexif() and "exif" not in image.info
        # The centre square of a 600x300 half-red, half-blue picture: red left, blue right.
        left, right = (
            image.convert("RGB").getpixel((10, 128)),
            image.convert("RGB").getpixel((245, 128)),
        )
        assert left[0] > 200 > left[2] and right[2] > 200 > right[0]

        # avatar_url everywhere the user appears: me, members, room members, messages.
        assert (await api.call("GET", ME, alice))["avatar_url"] == url
        members = await api.call("GET", f"/api/v1/workspaces/{ws['id']}/members", owner)
        assert {m["user_id"]: m["user"]["avatar_url"] for m in members}[alice.id] == url
        room_members = await api.call("GET", f"/api/v1/room-users/room/{room['id']}", owner)
        assert {m["user_id"]: m["user"]["avatar_url"] for m in room_members}[alice.id] == url
        said = await api.call(
            "POST",
            f"/api/v1/room-chats/{room['id']}/messages",
            alice,
            201,
            json={"message_text": "with a face"},
        )
        assert said["user"]["avatar_url"] == url
        # A name of no picture (or not of ours) is a 404.
        for missing in (url[:-6] + "00.png", url.replace(".png", ".svg")):
            assert (await api.http.get(missing.removeprefix(server.base_url))).status_code == 404
    finally:
        await watcher.close()


async def test_what_is_not_a_small_picture_is_refused_and_changes_nothing(
    server: ServerProcess, api: Api
) -> None:
    alice = await api.register("alice")
    before = await api.call("GET", ME, alice)
    refused = [
        (b"", 422),
        (b"<html><script>alert(1)</script></html>", 422),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 422),  # a PNG signature, then nothing
        (b"%PDF-1.4 " + b"x" * 100, 422),
        (bomb(), 422),  # a small file of 900 million pixels
        (picture(10, 10, "BMP"), 422),  # a picture, of a kind not taken
        (b"\xff\xd8\xff" + b"\x00" * (2 * 1024 * 1024), 413),  # over 2 MiB
    ]
    for body, status in refused:
        response = await api.http.put(
            AVATAR, content=body, headers={**alice.headers, "Content-Type": "image/png"}
        )
        assert response.status_code == status, (body[:16], response.text)
        assert response.json()["error"]["code"] in ("validation_error", "payload_too_large")
    assert await api.call("GET", ME, alice) == before
    # No token: 401.
    response = await api.http.put(AVATAR, content=picture(8, 8, "PNG"))
    assert response.status_code == 401
