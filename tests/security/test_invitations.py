"""Finding 7: anyone could be added to any workspace, and users could be enumerated.

Adding a member now sends an invitation the invitee accepts or declines. The owner
gets one reply whoever the user is (or is not), so the endpoint tells an attacker
nothing about accounts; only the invitee sees the invitation; a member can leave
(the owner hands the workspace on first), and leaving takes the user out of the
workspace's rooms at once, on an open WebSocket too.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from tests.support.client import Account, Api, Ws, error_code, is_message, unique
from tests.support.server import ServerProcess

INVITE = "/api/v1/workspaces/{}/members"


def members_path(workspace: dict[str, Any]) -> str:
    return f"/api/v1/workspaces/{workspace['id']}/members"


async def member_ids(api: Api, owner: Account, workspace: dict[str, Any]) -> set[int]:
    return {m["user_id"] for m in await api.call("GET", members_path(workspace), owner)}


async def test_inviting_reveals_nothing_about_users(api: Api) -> None:
    """The owner probes usernames and ids: every answer is byte-for-byte the same."""
    owner, member, victim, pending = (
        await api.register("owner"),
        await api.register("Mallory"),
        await api.register("Victor"),
        await api.register("Peggy"),
    )
    workspace = await api.workspace(owner, member)
    path = members_path(workspace)
    await api.call("POST", path, owner, 202, json={"user_id": pending.id})

    probes: list[dict[str, Any]] = [
        {"username": victim.user["username"]},  # exists
        {"username": unique("nobody")},  # does not
        {"user_id": victim.id},  # exists (now invited)
        {"user_id": 10**12},  # does not
        {"user_id": member.id},  # already a member
        {"username": member.user["username"]},
        {"user_id": pending.id},  # already invited
        {"user_id": owner.id},  # the owner
    ]
    replies: list[httpx.Response] = []
    for body in probes:
        replies.append(await api.http.post(path, headers=owner.headers, json=body))
    assert {r.status_code for r in replies} == {202}
    assert len({r.content for r in replies}) == 1, [r.text for r in replies]
    text = replies[0].text
    for account in (victim, member, pending):
        assert account.user["username"] not in text
        assert account.user["display_name"] not in text
        assert f'"{account.id}"' not in text
    assert replies[0].json()["data"]["workspace_id"] == workspace["id"]

    # Nobody became a member by being invited.
    assert await member_ids(api, owner, workspace) == {owner.id, member.id}
    assert await api.call("GET", "/api/v1/workspaces/", victim) == []


async def test_invitation_ids_do_not_count_other_invitations(api: Api) -> None:
    """Ids are not sequential: the owner cannot learn, from the ids their own second
    account receives, whether an invitation to someone else was created in between."""
    owner, alt, victim = (
        await api.register("owner"),
        await api.register("alt"),
        await api.register("victim"),
    )
    ids = []
    for _ in range(3):
        workspace = await api.workspace(owner)
        await api.call("POST", members_path(workspace), owner, 202, json={"user_id": victim.id})
        await api.call("POST", members_path(workspace), owner, 202, json={"user_id": alt.id})
        ids += [i["id"] for i in await api.invitations(alt) if i["workspace_id"] == workspace["id"]]
    assert len(ids) == 3
    gaps = {b - a for a, b in itertools.pairwise(ids)}
    assert not gaps <= {1, 2, 3}, ids


async def test_only_the_invitee_sees_and_answers_an_invitation(api: Api) -> None:
    owner, invitee, snoop = (
        await api.register("owner"),
        await api.register("invitee"),
        await api.register("snoop"),
    )
    workspace = await api.workspace(owner)
    await api.call("POST", members_path(workspace), owner, 202, json={"user_id": invitee.id})

    [invitation] = await api.invitations(invitee)
    assert invitation["workspace_id"] == workspace["id"]
    assert invitation["workspace_name"] == workspace["name"]
    assert invitation["invited_by"]["id"] == owner.id
    assert await api.invitations(snoop) == []
    assert await api.invitations(owner) == []

    # Someone else's invitation, the owner's included: forbidden, and no data.
    for who in (snoop, owner):
        for answer in ("accept", "decline"):
            response = await api.http.post(
                f"/api/v1/invitations/{invitation['id']}/{answer}", headers=who.headers
            )
            assert response.status_code == 403, response.text
            assert response.json()["error"]["code"] == "forbidden"
            assert workspace["name"] not in response.text
    assert await member_ids(api, owner, workspace) == {owner.id}
    assert await api.invitations(invitee) == [invitation]

    # Ids that name no invitation.
    for bad in (10**15, 1):
        error = await api.call("POST", f"/api/v1/invitations/{bad}/accept", invitee, 404)
        assert error["code"] == "not_found"
    # Ids out of range or not ids at all.
    for bad_path in ("2" + "0" * 19, "abc"):
        error = await api.call("POST", f"/api/v1/invitations/{bad_path}/accept", invitee, 422)
        assert error["code"] == "validation_error"

    # Declining removes it; answering twice is not_found.
    await api.call("POST", f"/api/v1/invitations/{invitation['id']}/decline", invitee)
    assert await api.invitations(invitee) == []
    error = await api.call("POST", f"/api/v1/invitations/{invitation['id']}/accept", invitee, 404)
    assert error["code"] == "not_found"
    assert await member_ids(api, owner, workspace) == {owner.id}

    # Invited again, the invitee accepts and is a member with the role "member".
    await api.call("POST", members_path(workspace), owner, 202, json={"user_id": invitee.id})
    accepted = await api.accept_invitation(invitee, workspace["id"])
    assert accepted == workspace
    members = await api.call("GET", members_path(workspace), invitee)
    assert {m["user_id"]: m["role"] for m in members} == {owner.id: "owner", invitee.id: "member"}
    assert await api.invitations(invitee) == []


async def test_only_the_owner_invites_and_other_workspaces_are_forbidden(api: Api) -> None:
    owner, member, outsider, target = (
        await api.register("owner"),
        await api.register("member"),
        await api.register("outsider"),
        await api.register("target"),
    )
    workspace = await api.workspace(owner, member)
    await api.workspace(outsider)
    for who in (member, outsider):
        for body in ({"user_id": target.id}, {"username": target.user["username"]}):
            response = await api.http.post(members_path(workspace), headers=who.headers, json=body)
            assert response.status_code == 403, response.text
            assert response.json()["error"]["code"] == "forbidden"
            assert workspace["name"] not in response.text
            assert target.user["username"] not in response.text
    assert await api.invitations(target) == []
    error = await api.call("POST", INVITE.format(10**12), owner, 404, json={"user_id": target.id})
    assert error["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"user_id": "1"},
        {"user_id": 1.0},
        {"user_id": True},
        {"user_id": 0},
        {"user_id": -1},
        {"user_id": 2**63},
        {"user_id": None, "username": None},
        {"user_id": 1, "username": "someone"},
        {"username": "a\x00b"},
        {"username": "al\nice"},
        {"username": "x" * 65},
        {"username": "no"},
        {"username": 12345},
    ],
)
async def test_bad_invitations_are_validation_errors_and_change_nothing(
    api: Api, body: dict[str, Any]
) -> None:
    owner, target = await api.register("owner"), await api.register("target")
    workspace = await api.workspace(owner)
    response = await api.http.post(members_path(workspace), headers=owner.headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert await api.invitations(target) == []
    assert await member_ids(api, owner, workspace) == {owner.id}


async def test_strangers_with_many_workspaces_cannot_crowd_out_a_colleague(api: Api) -> None:
    """Issue 20, item 4: five strangers, each with the twenty workspaces one may own,
    invite one user a hundred times: the user's list used to fill (100) and drop every
    later invitation, a colleague's too. Now each inviter holds at most three places
    (their newest three), the colleague's invitation arrives, and every inviter got
    the same reply whatever became of theirs."""
    victim, colleague = await api.register("victim"), await api.register("colleague")
    await api.workspace(colleague, victim)
    strangers = [await api.register(f"stranger{n}") for n in range(5)]
    newest: dict[int, list[int]] = {}
    replies = set()
    for stranger in strangers:
        made = []
        for _ in range(20):
            workspace = await api.workspace(stranger)
            response = await api.http.post(
                members_path(workspace), headers=stranger.headers, json={"user_id": victim.id}
            )
            assert response.status_code == 202
            replies.add(response.json()["data"]["detail"])
            made.append(workspace["id"])
        newest[stranger.id] = made[-3:]
    assert len(replies) == 1

    team = await api.workspace(colleague)
    await api.call("POST", members_path(team), colleague, 202, json={"user_id": victim.id})
    pending = await api.invitations(victim)
    by_inviter: dict[int, list[int]] = {}
    for invitation in pending:
        by_inviter.setdefault(invitation["invited_by"]["id"], []).append(invitation["workspace_id"])
    assert by_inviter == {**newest, colleague.id: [team["id"]]}
    await api.accept_invitation(victim, team["id"])


async def test_a_member_leaves_and_loses_the_rooms_at_once(server: ServerProcess, api: Api) -> None:
    owner, member = await api.register("owner"), await api.register("member")
    workspace = await api.workspace(owner, member)
    room = await api.room(owner, workspace["id"], passcode="pass-1234")
    conn = await Ws.connect(server.ws_url, member)
    try:
        await conn.join(room["id"], passcode="pass-1234")
        await conn.say(room["id"], "before leaving")

        left = await api.call("DELETE", f"{members_path(workspace)}/me", member)
        assert left == {"workspace_id": workspace["id"], "user_id": member.id}

        # The socket that had joined gets nothing more of the room: the owner's
        # broadcast goes out before the owner's reply, and a pong after it.
        speaker = await Ws.connect(server.ws_url, owner)
        try:
            await speaker.join(room["id"])
            await speaker.say(room["id"], "said after the member left")
        finally:
            await speaker.close()
        assert (await conn.request("ping"))["action"] == "pong"
        assert not any(is_message("said after the member left")(f) for f in conn.received)

        # On the socket still open: sending and rejoining are refused now.
        reply = await conn.request(
            "send_room_chat_message", {"room_id": room["id"], "message_text": "after leaving"}
        )
        assert error_code(reply) == "forbidden", reply
        reply = await conn.request("join_room_chat", {"room_id": room["id"]})
        assert error_code(reply) == "forbidden", reply
    finally:
        await conn.close()
    for path in (
        f"/api/v1/room-chats/{room['id']}/messages",
        f"/api/v1/room-chats/workspace/{workspace['id']}",
        f"/api/v1/room-users/room/{room['id']}",
        members_path(workspace),
    ):
        response = await api.http.get(path, headers=member.headers)
        assert response.status_code == 403, path
        assert "before leaving" not in response.text
    assert await member_ids(api, owner, workspace) == {owner.id}
    members = await api.call("GET", f"/api/v1/room-users/room/{room['id']}", owner)
    assert [m["user_id"] for m in members] == [owner.id]
    page = await api.call("GET", f"/api/v1/room-chats/{room['id']}/messages", owner)
    assert [m["message_text"] for m in page["messages"]] == [
        "before leaving",
        "said after the member left",
    ]
    assert await api.call("GET", "/api/v1/workspaces/", member) == []

    # Invited back, they are a workspace member again, but the passcode room asks again.
    await api.add_member(owner, workspace["id"], member)
    conn = await Ws.connect(server.ws_url, member)
    try:
        reply = await conn.request("join_room_chat", {"room_id": room["id"]})
        assert error_code(reply) == "wrong_passcode"
    finally:
        await conn.close()


async def test_leaving_twice_or_a_workspace_not_yours_is_refused(api: Api) -> None:
    owner, member, outsider = (
        await api.register("owner"),
        await api.register("member"),
        await api.register("outsider"),
    )
    workspace = await api.workspace(owner, member)
    await api.call("DELETE", f"{members_path(workspace)}/me", member)
    for who in (member, outsider):
        error = await api.call("DELETE", f"{members_path(workspace)}/me", who, 403)
        assert error["code"] == "forbidden"
    error = await api.call("DELETE", f"{INVITE.format(10**12)}/me", owner, 404)
    assert error["code"] == "not_found"
    assert await member_ids(api, owner, workspace) == {owner.id}


async def test_the_owner_hands_the_workspace_on_before_leaving(api: Api) -> None:
    owner, member, stranger, outsider = (
        await api.register("owner"),
        await api.register("member"),
        await api.register("stranger"),
        await api.register("outsider"),
    )
    workspace = await api.workspace(owner, member)
    other = await api.workspace(outsider)
    transfer = f"/api/v1/workspaces/{workspace['id']}/owner"

    error = await api.call("DELETE", f"{members_path(workspace)}/me", owner, 409)
    assert error["code"] == "conflict" and "transfer" in error["message"]

    # Only to a member; only by the owner; never from another workspace.
    for user_id in (stranger.id, outsider.id, 10**12):
        error = await api.call("POST", transfer, owner, 404, json={"user_id": user_id})
        assert error["code"] == "not_found"
    error = await api.call("POST", transfer, owner, 409, json={"user_id": owner.id})
    assert error["code"] == "conflict"
    error = await api.call("POST", transfer, member, 403, json={"user_id": member.id})
    assert error["code"] == "forbidden"
    response = await api.http.post(
        transfer, headers=outsider.headers, json={"user_id": outsider.id}
    )
    assert response.status_code == 403 and workspace["name"] not in response.text
    error = await api.call(
        "POST", f"/api/v1/workspaces/{other['id']}/owner", owner, 403, json={"user_id": owner.id}
    )
    assert error["code"] == "forbidden"
    for bad in ({}, {"user_id": str(member.id)}, {"user_id": 0}, {"user_id": 2**63}):
        error = await api.call("POST", transfer, owner, 422, json=bad)
        assert error["code"] == "validation_error"
    roles = await api.call("GET", members_path(workspace), owner)
    assert {m["user_id"]: m["role"] for m in roles} == {owner.id: "owner", member.id: "member"}

    moved = await api.call("POST", transfer, owner, json={"user_id": member.id})
    assert moved["owner_id"] == member.id and moved["id"] == workspace["id"]
    roles = await api.call("GET", members_path(workspace), member)
    assert {m["user_id"]: m["role"] for m in roles} == {owner.id: "member", member.id: "owner"}
    # The former owner can no longer invite, and now can leave.
    error = await api.call("POST", members_path(workspace), owner, 403, json={"user_id": 1})
    assert error["code"] == "forbidden"
    await api.call("DELETE", f"{members_path(workspace)}/me", owner)
    assert await member_ids(api, member, workspace) == {member.id}


async def test_invitation_endpoints_need_a_token(api: Api) -> None:
    for method, path in (
        ("GET", "/api/v1/invitations"),
        ("POST", "/api/v1/invitations/1/accept"),
        ("POST", "/api/v1/invitations/1/decline"),
        ("DELETE", "/api/v1/workspaces/1/members/me"),
        ("POST", "/api/v1/workspaces/1/owner"),
    ):
        response = await api.http.request(method, path, json={"user_id": 1})
        assert response.status_code == 401, (method, path)
