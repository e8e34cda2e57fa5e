"""Issue 22, finding 6 (the endpoint): join by link with the link in the body.

``POST /api/v1/room-chats/join`` takes ``{"link_token": ...}`` (the room object's
``link_token``) or ``{"link_join": ...}`` (the whole URL a member passed on), exactly
one, with an optional ``passcode``. It answers as ``/join/{join_token}`` does, with the
same rights: a member of the room's workspace gets in, an outsider is ``forbidden``, a
token that names no room ``not_found``, a passcode room asks for its passcode. What is
not a link is a ``validation_error`` that changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.client import Account, Api, register_sync, unique
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

JOIN = "/api/v1/room-chats/join"
PASSCODE = "4321"


async def members(api: Api, owner: Account, room: dict[str, Any]) -> set[int]:
    listed = await api.call("GET", f"/api/v1/room-users/room/{room['id']}", owner)
    return {m["user_id"] for m in listed}


async def test_a_workspace_member_joins_by_token_or_by_link(api: Api) -> None:
    owner, by_token, by_link, by_path = [await api.register(n) for n in ("o", "t", "l", "p")]
    workspace = await api.workspace(owner, by_token, by_link, by_path)
    room = await api.room(owner, workspace["id"])
    assert room["link_join"].endswith(f"/join/{room['link_token']}")

    via_token = await api.call("POST", JOIN, by_token, json={"link_token": room["link_token"]})
    via_link = await api.call(
        "POST", JOIN, by_link, json={"link_join": room["link_join"], "passcode": None}
    )
    via_path = await api.call("POST", f"{JOIN}/{room['link_token']}", by_path)
    assert via_token == via_link == via_path  # the same answer, whichever way
    assert via_token["id"] == room["id"] and via_token["link_join"] == room["link_join"]
    assert await members(api, owner, room) == {owner.id, by_token.id, by_link.id, by_path.id}

    # Each new member's room_member_joined, as for any join.
    events = await api.call("GET", f"/api/v1/room-chats/{room['id']}/events", owner)
    joined = [
        e["data"]["user_id"]
        for e in events["events"]
        if e["action"] == "room_member_joined" and e["data"]["user_id"] != owner.id
    ]
    assert joined == [by_token.id, by_link.id, by_path.id]
    # Joining again changes nothing and answers the room.
    again = await api.call("POST", JOIN, by_token, json={"link_token": room["link_token"]})
    assert again == via_token


async def test_a_passcode_room_asks_for_its_passcode(api: Api) -> None:
    owner, member = await api.register("owner"), await api.register("member")
    workspace = await api.workspace(owner, member)
    room = await api.room(owner, workspace["id"], passcode=PASSCODE)
    token = room["link_token"]
    missing = await api.call("POST", JOIN, member, 403, json={"link_token": token})
    wrong = await api.call("POST", JOIN, member, 403, json={"link_token": token, "passcode": "0"})
    assert missing["code"] == wrong["code"] == "wrong_passcode"
    assert await members(api, owner, room) == {owner.id}
    body = {"link_join": room["link_join"], "passcode": PASSCODE}
    assert (await api.call("POST", JOIN, member, json=body))["id"] == room["id"]
    assert await members(api, owner, room) == {owner.id, member.id}


async def test_an_outsider_is_forbidden_and_an_unknown_token_not_found(api: Api) -> None:
    owner, outsider = await api.register("owner"), await api.register("outsider")
    workspace = await api.workspace(owner)
    room = await api.room(owner, workspace["id"])
    for body in ({"link_token": room["link_token"]}, {"link_join": room["link_join"]}):
        refused = await api.call("POST", JOIN, outsider, 403, json=body)
        assert refused["code"] == "forbidden"
    nowhere = room["link_join"].replace(room["link_token"], "A" * 32)
    for body in ({"link_token": "A" * 32}, {"link_join": nowhere}):
        assert (await api.call("POST", JOIN, owner, 404, json=body))["code"] == "not_found"
    assert (await api.call("POST", JOIN, None, 401, json={"link_token": "x"}))["code"] == (
        "unauthorized"
    )
    assert await members(api, owner, room) == {owner.id}


@dataclass(frozen=True)
class Scene:
    owner: Account
    member: Account  # of the workspace, not of the room
    room: dict[str, Any]


@pytest.fixture(scope="module")
def scene(server: ServerProcess) -> Scene:
    owner, member = register_sync(server.base_url, "owner", "member")
    with httpx.Client(base_url=server.base_url, timeout=30) as http:

        def call(who: Account, method: str, path: str, **kw: Any) -> Any:
            response = http.request(method, path, headers=who.headers, **kw)
            assert response.status_code < 300, response.text
            return response.json()["data"]

        ws = call(owner, "POST", "/api/v1/workspaces/", json={"name": unique("ws")})
        call(owner, "POST", f"/api/v1/workspaces/{ws['id']}/members", json={"user_id": member.id})
        [invitation] = call(member, "GET", "/api/v1/invitations")
        call(member, "POST", f"/api/v1/invitations/{invitation['id']}/accept")
        body = {"workspace_id": ws["id"], "name": unique("room")}
        room = call(owner, "POST", "/api/v1/room-chats/", json=body)
    return Scene(owner, member, room)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"passcode": "1234"},
        {"link_token": None, "link_join": None},
        {"link_token": "TOKEN", "link_join": "LINK"},  # both: which one?
        {"link_join": "not a link"},
        {"link_join": "https://chat.example.com/rooms/abc"},
        {"link_join": "https://chat.example.com/join/"},
        {"link_join": "https://chat.example.com/join/a b"},
        {"link_join": "http://[::1"},
        {"link_join": "https://chat.example.com/join/" + "a" * 200},
        {"link_token": ""},
        {"link_token": "../etc/passwd"},
        {"link_token": "a\x00b"},
        {"link_token": 42},
        {"link_token": ["TOKEN"]},
        {"link_token": "TOKEN", "passcode": 4321},
        {"link_token": "TOKEN", "extra": True},
    ],
    ids=lambda body: repr(body)[:60],
)
async def test_what_is_not_one_link_is_a_validation_error(
    api: Api, scene: Scene, body: dict[str, Any]
) -> None:
    real = {"TOKEN": scene.room["link_token"], "LINK": scene.room["link_join"]}
    sent = {k: real.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    refused = await api.call("POST", JOIN, scene.member, 422, json=sent)
    assert refused["code"] == "validation_error", refused
    assert await members(api, scene.owner, scene.room) == {scene.owner.id}  # nothing changed
