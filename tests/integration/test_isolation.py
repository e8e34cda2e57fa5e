"""Workspaces are a wall: another workspace's ids answer forbidden, in REST, WS and broadcasts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.client import Account, Api, Ws, error_code, is_message, until
from tests.support.server import ServerProcess


@dataclass
class TwoWorkspaces:
    insider: Account
    outsider: Account
    workspace: dict[str, Any]  # the insider's; the outsider is not in it
    room: dict[str, Any]  # in the insider's workspace
    outsider_workspace: dict[str, Any]
    outsider_room: dict[str, Any]


@pytest.fixture
async def two(api: Api) -> TwoWorkspaces:
    insider, outsider = await api.register("insider"), await api.register("outsider")
    workspace = await api.workspace(insider)
    room = await api.room(insider, workspace["id"])
    outsider_workspace = await api.workspace(outsider)
    outsider_room = await api.room(outsider, outsider_workspace["id"])
    return TwoWorkspaces(insider, outsider, workspace, room, outsider_workspace, outsider_room)


@pytest.fixture
async def with_history(server: ServerProcess, two: TwoWorkspaces) -> AsyncIterator[TwoWorkspaces]:
    """The insider's room holds a message the outsider must never see."""
    conn = await Ws.connect(server.ws_url, two.insider)
    await conn.join(two.room["id"])
    await conn.say(two.room["id"], "top secret")
    await conn.close()
    yield two


def rest_calls(two: TwoWorkspaces) -> list[tuple[str, str, dict[str, Any] | None]]:
    ws_id, room_id = two.workspace["id"], two.room["id"]
    return [
        ("GET", f"/api/v1/room-chats/workspace/{ws_id}", None),
        ("GET", f"/api/v1/room-chats/{room_id}", None),
        ("GET", f"/api/v1/room-users/room/{room_id}", None),
        ("GET", f"/api/v1/room-chats/{room_id}/messages", None),
        ("GET", f"/api/v1/room-chats/{room_id}/messages?before_seq=10&limit=10", None),
        ("GET", f"/api/v1/room-chats/{room_id}/messages?after_seq=0", None),
        ("GET", f"/api/v1/room-chats/{room_id}/events", None),
        ("GET", f"/api/v1/room-chats/{room_id}/events?after_seq=0&limit=100", None),
        ("POST", "/api/v1/room-chats/", {"workspace_id": ws_id, "name": "intruder room"}),
        ("POST", f"/api/v1/workspaces/{ws_id}/members", {"user_id": two.outsider.id}),
        ("POST", f"/api/v1/workspaces/{ws_id}/members", {"username": "someone"}),
        ("GET", f"/api/v1/workspaces/{ws_id}/members", None),
    ]


async def test_rest_refuses_every_call_on_another_workspace(
    api: Api, with_history: TwoWorkspaces
) -> None:
    two = with_history
    for method, path, body in rest_calls(two):
        response = await api.http.request(method, path, headers=two.outsider.headers, json=body)
        assert response.status_code == 403, f"{method} {path}: {response.text}"
        assert response.json() == {
            "status": "error",
            "error": {"code": "forbidden", "message": response.json()["error"]["message"]},
        }
        assert "top secret" not in response.text
        assert two.room["name"] not in response.text
        assert two.workspace["name"] not in response.text

    # Nothing changed: no room was created, nobody was added.
    rooms = await api.call(
        "GET", f"/api/v1/room-chats/workspace/{two.workspace['id']}", two.insider
    )
    assert [r["id"] for r in rooms] == [two.room["id"]]
    members = await api.call(
        "GET", f"/api/v1/workspaces/{two.workspace['id']}/members", two.insider
    )
    assert [m["user_id"] for m in members] == [two.insider.id]
    mine = await api.call("GET", "/api/v1/workspaces/", two.outsider)
    assert [w["id"] for w in mine] == [two.outsider_workspace["id"]]


async def test_websocket_refuses_join_send_and_typing_in_another_workspaces_room(
    server: ServerProcess, api: Api, with_history: TwoWorkspaces
) -> None:
    two = with_history
    rid = two.room["id"]
    conn = await Ws.connect(server.ws_url, two.outsider)
    try:
        for action, payload in [
            ("join_room_chat", {"room_id": rid}),
            ("join_room_chat", {"room_id": rid, "after_seq": 0}),
            ("send_room_chat_message", {"room_id": rid, "message_text": "let me in"}),
            ("typing_indicator", {"room_id": rid, "is_typing": True}),
        ]:
            reply = await conn.request(action, payload)
            assert error_code(reply) == "forbidden", (action, reply)
            assert "top secret" not in json.dumps(reply)
    finally:
        await conn.close()
    # The outsider did not become a member, and nothing was stored.
    members = await api.call("GET", f"/api/v1/room-users/room/{rid}", two.insider)
    assert [m["user_id"] for m in members] == [two.insider.id]
    page = await api.call("GET", f"/api/v1/room-chats/{rid}/messages", two.insider)
    assert [m["message_text"] for m in page["messages"]] == ["top secret"]


async def test_no_broadcast_of_another_workspaces_room_reaches_an_outsider(
    server: ServerProcess, api: Api, two: TwoWorkspaces
) -> None:
    """The outsider tries every way in, then the insider talks; the outsider hears nothing.

    The insider also belongs to the outsider's workspace and room, and sends a marker
    there after talking in the private room; the outsider must get the marker with
    nothing from the private room before it.
    """
    await api.add_member(two.outsider, two.outsider_workspace["id"], two.insider)
    rid, shared = two.room["id"], two.outsider_room["id"]
    insider = await Ws.connect(server.ws_url, two.insider)
    outsider = await Ws.connect(server.ws_url, two.outsider)
    try:
        await outsider.join(shared)
        await insider.join(shared)
        await insider.join(rid)
        for action, payload in [
            ("join_room_chat", {"room_id": rid}),
            ("send_room_chat_message", {"room_id": rid, "message_text": "let me in"}),
            ("typing_indicator", {"room_id": rid, "is_typing": True}),
        ]:
            assert error_code(await outsider.request(action, payload)) == "forbidden"

        await insider.send("typing_indicator", {"room_id": rid, "is_typing": True})
        await insider.say(rid, "private words")
        await insider.say(shared, "marker")
        arrived = await until(outsider, is_message("marker"))
        leaked = [
            f
            for f in arrived
            if f.get("action") in {"new_room_chat_message", "typing_indicator"}
            and f["data"]["room_id"] != shared
        ]
        assert leaked == []
        assert "private words" not in json.dumps(arrived)
    finally:
        await insider.close()
        await outsider.close()


async def test_a_workspace_member_who_has_not_joined_the_room_cannot_send_or_read(
    server: ServerProcess, api: Api
) -> None:
    owner, member = await api.register("owner"), await api.register("member")
    ws = await api.workspace(owner, member)
    room = await api.room(owner, ws["id"])
    # Seeing the room and its members is fine inside the workspace ...
    assert (await api.call("GET", f"/api/v1/room-chats/{room['id']}", member))["id"] == room["id"]
    # ... reading or writing its messages needs membership.
    error = await api.call("GET", f"/api/v1/room-chats/{room['id']}/messages", member, 403)
    assert error["code"] == "forbidden"
    conn = await Ws.connect(server.ws_url, member)
    try:
        reply = await conn.request(
            "send_room_chat_message", {"room_id": room["id"], "message_text": "hi"}
        )
        assert error_code(reply) == "forbidden"
    finally:
        await conn.close()


async def test_ids_that_do_not_exist_are_not_found(server: ServerProcess, api: Api) -> None:
    user = await api.register("user")
    missing = 10**9
    for path in [
        f"/api/v1/room-chats/{missing}",
        f"/api/v1/room-users/room/{missing}",
        f"/api/v1/room-chats/workspace/{missing}",
        f"/api/v1/workspaces/{missing}/members",
    ]:
        error = await api.call("GET", path, user, 404)
        assert error["code"] == "not_found", path
    conn = await Ws.connect(server.ws_url, user)
    try:
        reply = await conn.request("join_room_chat", {"room_id": missing})
        assert error_code(reply) == "not_found"
    finally:
        await conn.close()


async def test_only_the_owner_invites_and_only_the_invitee_makes_it_membership(
    api: Api,
) -> None:
    owner, member, newcomer = (
        await api.register("owner"),
        await api.register("member"),
        await api.register("newcomer"),
    )
    ws = await api.workspace(owner, member)
    path = f"/api/v1/workspaces/{ws['id']}/members"
    error = await api.call("POST", path, member, 403, json={"user_id": newcomer.id})
    assert error["code"] == "forbidden"
    assert await api.invitations(newcomer) == []
    members = await api.call("GET", path, member)
    assert {m["user_id"]: m["role"] for m in members} == {owner.id: "owner", member.id: "member"}

    invited = await api.call(
        "POST", path, owner, 202, json={"username": newcomer.user["username"].upper()}
    )
    assert invited == {"workspace_id": ws["id"], "detail": invited["detail"]}
    # Invited is not a member: not listed, and the workspace is not theirs yet.
    assert newcomer.id not in {m["user_id"] for m in await api.call("GET", path, owner)}
    assert await api.call("GET", "/api/v1/workspaces/", newcomer) == []
    # Inviting again, or an unknown id, gets the very same answer.
    assert await api.call("POST", path, owner, 202, json={"user_id": newcomer.id}) == invited
    assert await api.call("POST", path, owner, 202, json={"user_id": 10**9}) == invited
    error = await api.call("POST", path, owner, 422, json={})
    assert error["code"] == "validation_error"

    await api.accept_invitation(newcomer, ws["id"])
    mine = await api.call("GET", "/api/v1/workspaces/", newcomer)
    assert [w["id"] for w in mine] == [ws["id"]]
    members = await api.call("GET", path, owner)
    assert {m["user_id"]: m["role"] for m in members} == {
        owner.id: "owner",
        member.id: "member",
        newcomer.id: "member",
    }


async def test_a_nul_character_in_a_name_is_a_validation_error(api: Api) -> None:
    owner = await api.register("owner")
    error = await api.call("POST", "/api/v1/workspaces/", owner, 422, json={"name": "w\x00s"})
    assert error["code"] == "validation_error"
    ws = await api.workspace(owner)
    error = await api.call(
        "POST",
        "/api/v1/room-chats/",
        owner,
        422,
        json={"workspace_id": ws["id"], "name": "r\x00"},
    )
    assert error["code"] == "validation_error"
    assert await api.call("GET", "/api/v1/workspaces/", owner) == [ws]


TOO_BIG = 2**63  # one past the largest id a database row can have


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/v1/room-chats/{TOO_BIG}", None),
        ("GET", f"/api/v1/room-chats/{TOO_BIG}/messages", None),
        ("GET", "/api/v1/room-chats/1/messages?before_seq=99999999999999999999", None),
        ("GET", "/api/v1/room-chats/1/messages?after_seq=99999999999999999999", None),
        ("GET", f"/api/v1/room-chats/{TOO_BIG}/events", None),
        ("GET", "/api/v1/room-chats/1/events?after_seq=99999999999999999999", None),
        ("GET", f"/api/v1/room-chats/workspace/{TOO_BIG}", None),
        ("GET", f"/api/v1/room-users/room/{TOO_BIG}", None),
        ("GET", f"/api/v1/workspaces/{TOO_BIG}/members", None),
        ("POST", f"/api/v1/workspaces/{TOO_BIG}/members", {"user_id": 1}),
        ("POST", "/api/v1/workspaces/1/members", {"user_id": TOO_BIG}),
        ("POST", "/api/v1/room-chats/", {"workspace_id": TOO_BIG, "name": "x"}),
    ],
)
async def test_an_id_beyond_64_bits_is_a_validation_error_not_a_crash(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    user = await api.register("user")
    response = await api.http.request(method, path, headers=user.headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_a_join_link_token_with_a_nul_is_not_found(api: Api) -> None:
    user = await api.register("user")
    error = await api.call("POST", "/api/v1/room-chats/join/ab%00cd", user, 404)
    assert error["code"] == "not_found"
