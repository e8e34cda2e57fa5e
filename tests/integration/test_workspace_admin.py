"""Running a workspace, on a real server and real sockets: the member list (paged, with
roles), removing a member (the same departure as leaving: their sockets stop at once),
roles (owner, admin, member), pending invitations (listed, cancelled, received live),
renaming; who may do each, and that a refusal changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.client import Account, Api, Frame, TracedWs, Ws, marker, unique
from tests.support.server import ServerProcess


def members_path(workspace_id: int, user_id: int | None = None) -> str:
    base = f"/api/v1/workspaces/{workspace_id}/members"
    return base if user_id is None else f"{base}/{user_id}"


def action(name: str, **fields: Any) -> Any:
    return lambda f: (
        f.get("action") == name and all(f["data"].get(k) == v for k, v in fields.items())
    )


async def members(api: Api, account: Account, workspace_id: int) -> dict[int, str]:
    listed = await api.call("GET", members_path(workspace_id), account)
    return {m["user_id"]: m["role"] for m in listed}


async def follow(ws: Ws, workspace_id: int) -> None:
    reply = await ws.request("subscribe_workspace", {"workspace_id": workspace_id})
    assert reply["status"] == "success", reply


@dataclass
class Team:
    """A workspace of ``owner`` with ``admin`` (made one), ``bob`` and ``carol``; and
    ``outsider``, owner of another workspace."""

    owner: Account
    admin: Account
    bob: Account
    carol: Account
    outsider: Account
    workspace_id: int
    other_workspace_id: int


@pytest.fixture
async def team(api: Api) -> Team:
    owner, admin, bob, carol, outsider = [
        await api.register(n) for n in ("owner", "admin", "bob", "carol", "outsider")
    ]
    ws = await api.workspace(owner, admin, bob, carol)
    other = await api.workspace(outsider)
    made = await api.call("PATCH", members_path(ws["id"], admin.id), owner, json={"role": "admin"})
    assert (made["user_id"], made["role"]) == (admin.id, "admin")
    return Team(owner, admin, bob, carol, outsider, ws["id"], other["id"])


async def test_the_member_list_is_paged_by_user_id_with_roles(api: Api, team: Team) -> None:
    everyone = await api.call("GET", members_path(team.workspace_id), team.bob)
    assert [m["user_id"] for m in everyone] == sorted(m["user_id"] for m in everyone)
    assert {m["user_id"]: m["role"] for m in everyone} == {
        team.owner.id: "owner",
        team.admin.id: "admin",
        team.bob.id: "member",
        team.carol.id: "member",
    }
    assert all(m["joined_at"].endswith("Z") and m["user"]["id"] == m["user_id"] for m in everyone)
    # Two at a time: a Link to the next page, none after the last.
    seen: list[int] = []
    path = members_path(team.workspace_id)
    params: dict[str, Any] = {"limit": 2}
    while True:
        response = await api.http.get(path, params=params, headers=team.bob.headers)
        assert response.status_code == 200
        seen += [m["user_id"] for m in response.json()["data"]]
        link = response.headers.get("link")
        if link is None:
            break
        assert link.endswith('rel="next"') and "after=" in link
        params = {"limit": 2, "after": seen[-1]}
    assert seen == [m["user_id"] for m in everyone]
    # Bad paging is a validation_error; an outsider gets forbidden and no members.
    for bad in ({"limit": 0}, {"limit": 501}, {"after": -1}, {"after": "01"}):
        await api.call("GET", path, team.bob, 422, params=bad)
    error = await api.call("GET", path, team.outsider, 403)
    assert error["code"] == "forbidden"


async def test_removing_a_member_is_leaving_their_sockets_stop_at_once(
    server: ServerProcess, api: Api, team: Team
) -> None:
    room = await api.room(team.owner, team.workspace_id)
    bob_ws = await TracedWs.connect(server.ws_url, team.bob)
    carol_ws = await TracedWs.connect(server.ws_url, team.carol)
    try:
        await bob_ws.join(room["id"])
        await carol_ws.join(room["id"])
        await follow(bob_ws, team.workspace_id)
        await follow(carol_ws, team.workspace_id)

        removed = await api.call("DELETE", members_path(team.workspace_id, team.bob.id), team.admin)
        assert removed == {"workspace_id": team.workspace_id, "user_id": team.bob.id}
        # bob's socket: the room's room_member_left (removed_by the admin), then the
        # workspace's workspace_member_left; carol hears both.
        left = await bob_ws.wait_for(action("room_member_left", user_id=team.bob.id))
        assert left["data"]["removed_by"] == team.admin.id
        gone = await bob_ws.wait_for(action("workspace_member_left", user_id=team.bob.id))
        assert gone["data"] == {
            "workspace_id": team.workspace_id,
            "user_id": team.bob.id,
            "removed_by": team.admin.id,
        }
        await carol_ws.wait_for(action("room_member_left", user_id=team.bob.id))
        await carol_ws.wait_for(action("workspace_member_left", user_id=team.bob.id))

        # Nothing of the workspace reaches bob any more: a message, a new room.
        await carol_ws.say(room["id"], "after bob left")
        await api.room(team.owner, team.workspace_id)
        await carol_ws.wait_for(action("workspace_room_created"))
        await marker(bob_ws)
        after = bob_ws.arrivals[bob_ws.arrivals.index(gone) + 1 :]
        assert [f["action"] for f in after if f.get("action") != "pong"] == []
        # And he is no member: no rooms, no sends, no members.
        error = await api.call("GET", members_path(team.workspace_id), team.bob, 403)
        assert error["code"] == "forbidden"
        reply = await bob_ws.request(
            "send_room_chat_message", {"room_id": room["id"], "message_text": "still here?"}
        )
        assert reply["status"] == "error" and reply["error"]["code"] == "forbidden"
        assert team.bob.id not in await members(api, team.owner, team.workspace_id)
        # He may be invited again, and is a member again once he accepts.
        await api.add_member(team.owner, team.workspace_id, team.bob)
        assert (await members(api, team.owner, team.workspace_id))[team.bob.id] == "member"
    finally:
        await bob_ws.close()
        await carol_ws.close()


async def test_who_may_remove_whom(api: Api, team: Team) -> None:
    ws_id = team.workspace_id
    before = await members(api, team.owner, ws_id)
    # A member removes nobody; an admin not the owner nor an admin; nobody the owner.
    refused = [
        (team.bob, team.carol.id),
        (team.bob, team.admin.id),
        (team.admin, team.owner.id),
        (team.outsider, team.carol.id),  # another workspace's owner
    ]
    for actor, target in refused:
        error = await api.call("DELETE", members_path(ws_id, target), actor, 403)
        assert error["code"] == "forbidden", (actor.user["username"], target)
    second_admin = await api.register("admin2")
    await api.add_member(team.owner, ws_id, second_admin)
    await api.call(
        "PATCH", members_path(ws_id, second_admin.id), team.owner, json={"role": "admin"}
    )
    error = await api.call("DELETE", members_path(ws_id, second_admin.id), team.admin, 403)
    assert error["code"] == "forbidden"
    # Someone who is no member (or no user at all): not_found, the same either way.
    for nobody in (team.outsider.id, 2**53 - 1):
        error = await api.call("DELETE", members_path(ws_id, nobody), team.owner, 404)
        assert error["code"] == "not_found"
    # Bad ids are validation errors, and another workspace's id a forbidden.
    await api.call("DELETE", members_path(ws_id, 0), team.owner, 422)
    await api.call("DELETE", f"/api/v1/workspaces/{ws_id}/members/01", team.owner, 422)
    error = await api.call(
        "DELETE", members_path(team.other_workspace_id, team.carol.id), team.owner, 403
    )
    assert error["code"] == "forbidden"
    after = await members(api, team.owner, ws_id)
    assert after == {**before, second_admin.id: "admin"}
    # The owner removes an admin; their own id is leaving (the owner cannot: 409).
    await api.call("DELETE", members_path(ws_id, second_admin.id), team.owner)
    error = await api.call("DELETE", members_path(ws_id, team.owner.id), team.owner, 409)
    assert error["code"] == "conflict"
    await api.call("DELETE", members_path(ws_id, team.carol.id), team.carol)
    assert set(await members(api, team.owner, ws_id)) == {team.owner.id, team.admin.id, team.bob.id}


async def test_a_bot_is_removed_by_revoking_its_key(api: Api, team: Team) -> None:
    key = await api.call(
        "POST",
        f"/api/v1/workspaces/{team.workspace_id}/api-keys",
        team.owner,
        201,
        json={"name": "deploys"},
    )
    error = await api.call(
        "DELETE", members_path(team.workspace_id, key["user"]["id"]), team.owner, 403
    )
    assert error["code"] == "forbidden"
    assert (await members(api, team.owner, team.workspace_id))[key["user"]["id"]] == "bot"


async def test_roles_change_by_the_owner_only(server: ServerProcess, api: Api, team: Team) -> None:
    ws_id = team.workspace_id
    follower = await Ws.connect(server.ws_url, team.carol)
    try:
        await follow(follower, ws_id)
        changed = await api.call(
            "PATCH", members_path(ws_id, team.bob.id), team.owner, json={"role": "admin"}
        )
        assert (changed["role"], changed["user"]["id"]) == ("admin", team.bob.id)
        frame = await follower.wait_for(action("workspace_member_updated", user_id=team.bob.id))
        assert frame["data"] == {
            "workspace_id": ws_id,
            "user_id": team.bob.id,
            "role": "admin",
            "changed_by": team.owner.id,
        }
    finally:
        await follower.close()
    before = await members(api, team.owner, ws_id)
    refusals = [
        (team.admin, team.carol.id, {"role": "admin"}, 403),  # an admin changes no role
        (team.carol, team.carol.id, {"role": "admin"}, 403),
        (team.outsider, team.carol.id, {"role": "member"}, 403),
        (team.owner, team.owner.id, {"role": "member"}, 403),  # hand it on instead
        (team.owner, team.carol.id, {"role": "owner"}, 422),
        (team.owner, team.carol.id, {"role": "bot"}, 422),
        (team.owner, team.carol.id, {"role": 1}, 422),
        (team.owner, team.carol.id, {}, 422),
        (team.owner, team.outsider.id, {"role": "admin"}, 404),
    ]
    for actor, target, body, status in refusals:
        await api.call("PATCH", members_path(ws_id, target), actor, status, json=body)
    assert await members(api, team.owner, ws_id) == before
    # Back to member: bob can no longer invite.
    await api.call("PATCH", members_path(ws_id, team.bob.id), team.owner, json={"role": "member"})
    error = await api.call(
        "POST", members_path(ws_id), team.bob, 403, json={"user_id": team.outsider.id}
    )
    assert error["code"] == "forbidden"


async def test_an_admin_manages_rooms_and_invitations_not_the_workspace(
    api: Api, team: Team
) -> None:
    ws_id = team.workspace_id
    room = await api.room(team.bob, ws_id)
    renamed = await api.call(
        "PATCH", f"/api/v1/room-chats/{room['id']}", team.admin, json={"name": "by the admin"}
    )
    assert renamed["name"] == "by the admin"
    # Not the owner's things: keys, webhooks, renaming or handing on the workspace.
    for method, path, body in (
        ("POST", f"/api/v1/workspaces/{ws_id}/api-keys", {"name": "k"}),
        ("GET", f"/api/v1/workspaces/{ws_id}/api-keys", None),
        ("PATCH", f"/api/v1/workspaces/{ws_id}", {"name": "mine now"}),
        ("POST", f"/api/v1/workspaces/{ws_id}/owner", {"user_id": team.admin.id}),
    ):
        error = await api.call(method, path, team.admin, 403, json=body)
        assert error["code"] == "forbidden", path
    # The owner hands the workspace to the admin: they own it, the owner is a member.
    await api.call(
        "POST", f"/api/v1/workspaces/{ws_id}/owner", team.owner, json={"user_id": team.admin.id}
    )
    assert (await members(api, team.admin, ws_id))[team.admin.id] == "owner"
    assert (await members(api, team.admin, ws_id))[team.owner.id] == "member"


async def test_pending_invitations_are_listed_cancelled_and_received_live(
    server: ServerProcess, api: Api, team: Team
) -> None:
    ws_id = team.workspace_id
    dave = await api.register("dave")
    dave_ws = await Ws.connect(server.ws_url, dave)
    follower = await Ws.connect(server.ws_url, team.carol)
    try:
        await follow(follower, ws_id)
        await api.call("POST", members_path(ws_id), team.admin, 202, json={"user_id": dave.id})
        live = await dave_ws.wait_for(action("invitation_received"))
        invitation = live["data"]["invitation"]
        assert invitation == (await api.invitations(dave))[0]
        assert (invitation["workspace_id"], invitation["invited_by"]["id"]) == (
            ws_id,
            team.admin.id,
        )
        # The same invitation again: nothing new reaches dave (a ping proves it).
        await api.call("POST", members_path(ws_id), team.owner, 202, json={"user_id": dave.id})
        assert [f["action"] for f in await marker(dave_ws)] == []

        path = f"/api/v1/workspaces/{ws_id}/invitations"
        [pending] = await api.call("GET", path, team.owner)
        assert (pending["id"], pending["user_id"], pending["user"]["id"]) == (
            invitation["id"],
            dave.id,
            dave.id,
        )
        assert pending["invited_by"]["id"] == team.admin.id
        assert pending["expires_at"] > pending["created_at"]
        assert await api.call("GET", path, team.admin) == [pending]
        # A member, an outsider, another workspace: forbidden and nothing shown.
        for who in (team.bob, team.outsider):
            error = await api.call("GET", path, who, 403)
            assert error["code"] == "forbidden" and "data" not in error
            error = await api.call("DELETE", f"/api/v1/invitations/{pending['id']}", who, 403)
            assert error["code"] == "forbidden"
        assert await api.call("GET", path, team.owner) == [pending]
        await api.call("DELETE", "/api/v1/invitations/0", team.owner, 422)
        await api.call("DELETE", f"/api/v1/invitations/{2**53 - 1}", team.owner, 404)

        cancelled = await api.call("DELETE", f"/api/v1/invitations/{pending['id']}", team.admin)
        assert cancelled == {"invitation_id": pending["id"]}
        # It leaves dave's list at once, on every connection of his.
        gone = await dave_ws.wait_for(action("invitation_cancelled"))
        assert gone["data"] == {"invitation_id": pending["id"], "workspace_id": ws_id}
        assert await api.call("GET", path, team.owner) == []
        assert await api.invitations(dave) == []
        error = await api.call("POST", f"/api/v1/invitations/{pending['id']}/accept", dave, 404)
        assert error["code"] == "not_found"
        await api.call("DELETE", f"/api/v1/invitations/{pending['id']}", team.owner, 404)

        # Invited again and accepted: the workspace's followers hear of the new member.
        await api.call(
            "POST", members_path(ws_id), team.owner, 202, json={"username": dave.user["username"]}
        )
        await dave_ws.wait_for(action("invitation_received"))
        await api.accept_invitation(dave, ws_id)
        joined = await follower.wait_for(action("workspace_member_joined", user_id=dave.id))
        assert joined["data"]["role"] == "member" and joined["data"]["user"]["id"] == dave.id
        # The invitee may withdraw their own through the same path (a decline).
        erin = await api.register("erin")
        await api.call("POST", members_path(ws_id), team.owner, 202, json={"user_id": erin.id})
        [mine] = await api.invitations(erin)
        erin_ws = await Ws.connect(server.ws_url, erin)
        try:
            await api.call("DELETE", f"/api/v1/invitations/{mine['id']}", erin)
            assert await api.invitations(erin) == []
            # Her own decline is no cancellation: nothing is sent (a ping proves it).
            assert [f["action"] for f in await marker(erin_ws)] == []
        finally:
            await erin_ws.close()
    finally:
        await dave_ws.close()
        await follower.close()


async def test_workspace_names_are_unique_per_owner(
    server: ServerProcess, api: Api, team: Team
) -> None:
    ws_id = team.workspace_id
    name = unique("Team")
    follower = await Ws.connect(server.ws_url, team.bob)
    try:
        await follow(follower, ws_id)
        renamed = await api.call(
            "PATCH", f"/api/v1/workspaces/{ws_id}", team.owner, json={"name": name}
        )
        assert (renamed["id"], renamed["name"]) == (ws_id, name)
        frame = await follower.wait_for(action("workspace_updated", workspace_id=ws_id))
        assert frame["data"]["workspace"]["name"] == name
    finally:
        await follower.close()
    # Another workspace of the same owner cannot take it, in any case; someone else's can.
    for taken in (name, name.upper(), f"  {name} "):
        error = await api.call("POST", "/api/v1/workspaces/", team.owner, 409, json={"name": taken})
        assert error["code"] == "conflict"
    second = await api.call(
        "POST", "/api/v1/workspaces/", team.owner, 201, json={"name": unique("x")}
    )
    await api.call(
        "PATCH", f"/api/v1/workspaces/{second['id']}", team.owner, 409, json={"name": name}
    )
    await api.call("POST", "/api/v1/workspaces/", team.outsider, 201, json={"name": name})
    # Renaming to its own name again is fine; bad names change nothing.
    await api.call("PATCH", f"/api/v1/workspaces/{ws_id}", team.owner, json={"name": name})
    for bad in ("", " ", "a\u202eb", "x" * 129, None, 5):
        await api.call("PATCH", f"/api/v1/workspaces/{ws_id}", team.owner, 422, json={"name": bad})
    error = await api.call(
        "PATCH",
        f"/api/v1/workspaces/{team.other_workspace_id}",
        team.owner,
        403,
        json={"name": "taken over"},
    )
    assert error["code"] == "forbidden"
    mine = await api.call("GET", "/api/v1/workspaces/", team.owner)
    assert {w["id"]: w["name"] for w in mine}[ws_id] == name


async def test_a_method_a_member_path_does_not_take_is_405(api: Api, team: Team) -> None:
    path = members_path(team.workspace_id, team.bob.id)
    response = await api.http.put(path, headers=team.owner.headers, json={})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"DELETE", "PATCH"}


def _frames(ws: TracedWs) -> list[Frame]:
    return ws.arrivals
