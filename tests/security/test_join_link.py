"""Finding 1: the join link bypassed the passcode.

The attacker is a workspace member who does not know a room's passcode. Before the
fix they read ``link_join`` from the room list, followed it, and read the history.
Now the link is shown only to the room's members, following it still asks for the
passcode (counted by the same limiter as join_room_chat), and a passcode room's
member list is for its members only.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.client import Account, Api, Ws, error_code
from tests.support.server import ServerProcess

PASSCODE = "kestrel-5521"
SECRET = "the launch code is 0000"


@dataclass
class Scene:
    owner: Account
    attacker: Account  # a member of the workspace, not of the room
    workspace: dict[str, Any]
    room: dict[str, Any]  # a passcode room holding SECRET
    open_room: dict[str, Any]  # a room without a passcode, the attacker not in it

    @property
    def token(self) -> str:
        return str(self.room["link_join"].rsplit("/", 1)[1])


@pytest.fixture
async def scene(server: ServerProcess, api: Api) -> Scene:
    owner, attacker = await api.register("owner"), await api.register("attacker")
    workspace = await api.workspace(owner, attacker)
    room = await api.room(owner, workspace["id"], passcode=PASSCODE)
    open_room = await api.room(owner, workspace["id"])
    conn = await Ws.connect(server.ws_url, owner)
    try:
        await conn.join(room["id"])
        await conn.say(room["id"], SECRET)
    finally:
        await conn.close()
    return Scene(owner, attacker, workspace, room, open_room)


async def room_members(api: Api, scene: Scene) -> set[int]:
    members = await api.call("GET", f"/api/v1/room-users/room/{scene.room['id']}", scene.owner)
    return {m["user_id"] for m in members}


async def test_a_non_member_never_sees_the_join_link(api: Api, scene: Scene) -> None:
    listed = await api.call(
        "GET", f"/api/v1/room-chats/workspace/{scene.workspace['id']}", scene.attacker
    )
    assert {r["id"]: r["link_join"] for r in listed} == {
        scene.room["id"]: None,
        scene.open_room["id"]: None,
    }
    assert {r["id"]: r["has_passcode"] for r in listed}[scene.room["id"]] is True
    for room in (scene.room, scene.open_room):
        response = await api.http.get(
            f"/api/v1/room-chats/{room['id']}", headers=scene.attacker.headers
        )
        assert response.status_code == 200
        assert response.json()["data"]["link_join"] is None
        assert room["link_join"].rsplit("/", 1)[1] not in response.text

    # The room's members (its creator included) do see it.
    listed = await api.call(
        "GET", f"/api/v1/room-chats/workspace/{scene.workspace['id']}", scene.owner
    )
    assert {r["id"]: r["link_join"] for r in listed} == {
        scene.room["id"]: scene.room["link_join"],
        scene.open_room["id"]: scene.open_room["link_join"],
    }
    shown = await api.call("GET", f"/api/v1/room-chats/{scene.room['id']}", scene.owner)
    assert shown["link_join"] == scene.room["link_join"]


async def test_a_leaked_link_without_the_passcode_gets_no_history(
    server: ServerProcess, api: Api, scene: Scene
) -> None:
    """Someone passed the link on: following it still needs the passcode."""
    path = f"/api/v1/room-chats/join/{scene.token}"
    for body in (None, {}, {"passcode": None}, {"passcode": ""}):
        response = await api.http.post(path, headers=scene.attacker.headers, json=body)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "wrong_passcode"
        assert SECRET not in response.text and scene.room["name"] not in response.text
    assert scene.attacker.id not in await room_members(api, scene)

    # Still not a member: no history over REST, none over the WebSocket.
    error = await api.call(
        "GET", f"/api/v1/room-chats/{scene.room['id']}/messages", scene.attacker, 403
    )
    assert error["code"] == "forbidden"
    conn = await Ws.connect(server.ws_url, scene.attacker)
    try:
        reply = await conn.request("join_room_chat", {"room_id": scene.room["id"]})
        assert error_code(reply) == "wrong_passcode"
        assert SECRET not in json.dumps(reply)
    finally:
        await conn.close()


async def test_guessing_through_the_link_shares_the_join_limiter(
    server: ServerProcess, api: Api, scene: Scene
) -> None:
    """Wrong passcodes through the link and through join_room_chat count together:
    after 5 in all, even the right passcode is refused, on either path."""
    path = f"/api/v1/room-chats/join/{scene.token}"
    for guess in range(3):
        error = await api.call(
            "POST", path, scene.attacker, 403, json={"passcode": f"guess-{guess}"}
        )
        assert error["code"] == "wrong_passcode"
    conn = await Ws.connect(server.ws_url, scene.attacker)
    try:
        for guess in range(3, 5):
            reply = await conn.request(
                "join_room_chat", {"room_id": scene.room["id"], "passcode": f"guess-{guess}"}
            )
            assert error_code(reply) == "wrong_passcode", reply
        reply = await conn.request(
            "join_room_chat", {"room_id": scene.room["id"], "passcode": PASSCODE}
        )
        assert error_code(reply) == "rate_limited"
    finally:
        await conn.close()
    error = await api.call("POST", path, scene.attacker, 429, json={"passcode": PASSCODE})
    assert error["code"] == "rate_limited"
    assert scene.attacker.id not in await room_members(api, scene)


async def test_parallel_guesses_through_the_link_are_held_to_five(api: Api, scene: Scene) -> None:
    path = f"/api/v1/room-chats/join/{scene.token}"
    responses = await asyncio.gather(
        *(
            api.http.post(path, headers=scene.attacker.headers, json={"passcode": f"g{n}"})
            for n in range(25)
        )
    )
    codes = [r.json()["error"]["code"] for r in responses]
    assert codes.count("wrong_passcode") <= 5, codes
    assert set(codes) <= {"wrong_passcode", "rate_limited"}, codes
    assert all(SECRET not in r.text for r in responses)
    assert scene.attacker.id not in await room_members(api, scene)


async def test_the_passcode_through_the_link_lets_a_member_in(api: Api, scene: Scene) -> None:
    path = f"/api/v1/room-chats/join/{scene.token}"
    joined = await api.call("POST", path, scene.attacker, json={"passcode": PASSCODE})
    assert joined["id"] == scene.room["id"]
    assert joined["link_join"] == scene.room["link_join"]  # a member now: shown
    assert scene.attacker.id in await room_members(api, scene)
    page = await api.call("GET", f"/api/v1/room-chats/{scene.room['id']}/messages", scene.attacker)
    assert [m["message_text"] for m in page["messages"]] == [SECRET]


async def test_a_non_member_cannot_list_a_passcode_rooms_members(api: Api, scene: Scene) -> None:
    response = await api.http.get(
        f"/api/v1/room-users/room/{scene.room['id']}", headers=scene.attacker.headers
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert scene.owner.user["username"] not in response.text
    assert scene.owner.user["display_name"] not in response.text
    # A room without a passcode is open to the workspace, its member list too.
    members = await api.call(
        "GET", f"/api/v1/room-users/room/{scene.open_room['id']}", scene.attacker
    )
    assert [m["user_id"] for m in members] == [scene.owner.id]


async def test_another_workspace_gets_forbidden_even_with_link_and_passcode(
    api: Api, scene: Scene
) -> None:
    outsider = await api.register("outsider")
    await api.workspace(outsider)
    path = f"/api/v1/room-chats/join/{scene.token}"
    for body in (None, {"passcode": PASSCODE}, {"passcode": "wrong"}):
        response = await api.http.post(path, headers=outsider.headers, json=body)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
        assert scene.room["name"] not in response.text and SECRET not in response.text
    for path in (
        f"/api/v1/room-users/room/{scene.room['id']}",
        f"/api/v1/room-chats/{scene.room['id']}",
        f"/api/v1/room-chats/workspace/{scene.workspace['id']}",
    ):
        response = await api.http.get(path, headers=outsider.headers)
        assert response.status_code == 403, path
        assert scene.token not in response.text and scene.room["name"] not in response.text
    assert outsider.id not in await room_members(api, scene)


async def test_a_malformed_join_body_is_refused_and_counts_nothing(api: Api, scene: Scene) -> None:
    path = f"/api/v1/room-chats/join/{scene.token}"
    for body in ({"passcode": 123456}, {"passcode": ["x"]}, {"passcode": "x" * 65}):
        error = await api.call("POST", path, scene.attacker, 422, json=body)
        assert error["code"] == "validation_error"
    response = await api.http.post(
        path, headers={**scene.attacker.headers, "Content-Type": "application/json"}, content="{"
    )
    assert response.status_code == 400
    # None of those counted as a guess: 5 wrong tries are still left.
    error = await api.call("POST", path, scene.attacker, 403, json={"passcode": "nope"})
    assert error["message"] == "wrong passcode (4 tries left)"
    assert scene.attacker.id not in await room_members(api, scene)
