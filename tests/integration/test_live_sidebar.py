"""The live sidebar on a real server: a connection that follows a workspace and joined
none of its rooms sees rooms made, renamed and deleted at once; one that does not follow
it sees none of that; a direct conversation is announced to nobody."""

from __future__ import annotations

from typing import Any

from tests.support.client import Api, Ws, marker
from tests.support.server import ServerProcess


def action(name: str, **fields: Any) -> Any:
    return lambda f: (
        f.get("action") == name and all(f["data"].get(k) == v for k, v in fields.items())
    )


async def test_rooms_made_renamed_and_deleted_reach_the_followers_at_once(
    server: ServerProcess, api: Api
) -> None:
    owner, alice, bob = [await api.register(n) for n in ("owner", "alice", "bob")]
    ws = await api.workspace(owner, alice, bob)
    other = await api.workspace(bob)
    follower = await Ws.connect(server.ws_url, alice)  # follows, joined nothing
    bystander = await Ws.connect(server.ws_url, bob)  # follows only another workspace
    try:
        reply = await follower.request("subscribe_workspace", {"workspace_id": ws["id"]})
        assert reply["status"] == "success"
        reply = await bystander.request("subscribe_workspace", {"workspace_id": other["id"]})
        assert reply["status"] == "success"

        room = await api.call(
            "POST",
            "/api/v1/room-chats/",
            owner,
            201,
            json={"workspace_id": ws["id"], "name": "launch", "passcode": "1234"},
        )
        made = await follower.wait_for(action("workspace_room_created", room_id=room["id"]))
        assert made["data"]["workspace_id"] == ws["id"]
        shown = made["data"]["room"]
        assert (shown["name"], shown["has_passcode"], shown["created_by"]) == (
            "launch",
            True,
            owner.id,
        )
        # Not a member of it: no link in the signal, as in the room list.
        assert shown["link_join"] is None and shown["link_token"] is None

        await api.call("PATCH", f"/api/v1/room-chats/{room['id']}", owner, json={"name": "liftoff"})
        renamed = await follower.wait_for(action("workspace_room_updated", room_id=room["id"]))
        assert renamed["data"]["room"]["name"] == "liftoff"
        assert renamed["data"]["room"]["link_join"] is None

        await api.call("DELETE", f"/api/v1/room-chats/{room['id']}", owner)
        deleted = await follower.wait_for(action("workspace_room_deleted", room_id=room["id"]))
        assert deleted["data"] == {"workspace_id": ws["id"], "room_id": room["id"]}

        # A direct conversation is its people's: bob's connection hears of it (he
        # follows nothing of this workspace), the follower alice does not.
        dm = await api.call(
            "POST",
            "/api/v1/direct-chats/",
            owner,
            201,
            json={"workspace_id": ws["id"], "user_ids": [bob.id]},
        )
        opened = await bystander.wait_for(action("workspace_room_created", room_id=dm["id"]))
        assert opened["data"]["room"]["member_ids"] == sorted([owner.id, bob.id])
        # A room refused (a bad name) announces nothing.
        await api.call(
            "POST",
            "/api/v1/room-chats/",
            owner,
            422,
            json={"workspace_id": ws["id"], "name": "a\u202eb"},
        )
        assert [f["action"] for f in await marker(follower)] == []
        # The bystander follows another workspace: nothing of this one reached it.
        seen = [
            f["action"] for f in bystander.received if f.get("action", "").startswith("workspace_")
        ]
        assert seen == ["workspace_room_created"], seen  # the direct conversation only

        # Unfollowed: a new room no longer reaches the connection.
        await follower.request("unsubscribe_workspace", {"workspace_id": ws["id"]})
        await api.room(owner, ws["id"])
        assert [f["action"] for f in await marker(follower)] == []
    finally:
        await follower.close()
        await bystander.close()
