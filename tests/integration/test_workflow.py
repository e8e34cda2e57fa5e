"""The guide's section 3, step by step: two users, two connections, one real server."""

from __future__ import annotations

from tests.support.client import Api, Ws, is_message
from tests.support.server import ServerProcess


async def test_guide_workflow_two_users(server: ServerProcess, api: Api) -> None:
    alice, bob = await api.register("Alice"), await api.register("Bob")
    ws = await api.workspace(alice, bob)
    room = await api.room(alice, ws["id"])

    # 1. Initial load: the room list shows the room.
    rooms = await api.call("GET", f"/api/v1/room-chats/workspace/{ws['id']}", bob)
    assert [r["id"] for r in rooms] == [room["id"]]
    assert rooms[0]["has_passcode"] is False and "passcode" not in rooms[0]

    a, b = await Ws.connect(server.ws_url, alice), await Ws.connect(server.ws_url, bob)
    try:
        # 2. Select room: join over the WebSocket; bob becomes a member by joining.
        joined = await a.join(room["id"])
        assert joined["data"]["room"]["id"] == room["id"]
        assert joined["data"]["messages"] == []
        await b.join(room["id"])
        members = await api.call("GET", f"/api/v1/room-users/room/{room['id']}", alice)
        assert {m["user_id"] for m in members} == {alice.id, bob.id}

        # 4. Listen: both connections get each message once, the sender's included.
        # Seq 1 of the room: bob's room_member_joined, which a (joined) got.
        joined = await a.wait_for(lambda f: f.get("action") == "room_member_joined")
        assert (joined["data"]["seq"], joined["data"]["user_id"]) == (1, bob.id)
        sent = await a.say(room["id"], "Hello world!")
        assert sent["seq"] == 2 and sent["user"]["id"] == alice.id
        assert sent["created_at"].endswith("Z")
        for client in (a, b):
            frame = await client.wait_for(is_message("Hello world!"))
            assert frame["status"] == "success"
            assert frame["data"] == sent
        reply = await b.say(room["id"], "Hi Alice")
        assert reply["seq"] == 3
        await a.wait_for(is_message("Hi Alice"))

        # 3. Display history: a fresh connection's join returns both, oldest first.
        c = await Ws.connect(server.ws_url, bob)
        history = (await c.join(room["id"]))["data"]["messages"]
        assert [m["message_text"] for m in history] == ["Hello world!", "Hi Alice"]
        assert [m["seq"] for m in history] == [2, 3]
        await c.close()
    finally:
        await a.close()
        await b.close()
