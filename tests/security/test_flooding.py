"""Issue 20 (items 2, 4, 7): what one account may make, and what it may fill.

A stranger with many workspaces cannot keep someone's invitation list full, and a
colleague's invitation always arrives; invitations and API keys are rate limited per
inviter and owner; how many workspaces a user owns, and how many rooms a workspace
and each of its members make, is bounded; a revoked key's bot leaves its workspace.
Real servers with small bounds, SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.client import Account, Api, Ws, marker, unique
from tests.support.server import ServerProcess, module_server

BOUNDS = {
    "workspaces_per_owner": "3",
    "rooms_per_workspace": "4",
    "rooms_per_creator": "2",
    "invitations_per_user": "4",
    "invitations_from_one_inviter": "2",
    "invitation_rate_limit": "6/minute",
    "api_key_create_limit": "3/minute",
}


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(backend, tmp_path_factory, "flooding", **BOUNDS) as process:
        yield process


def members_path(workspace_id: int) -> str:
    return f"/api/v1/workspaces/{workspace_id}/members"


async def invite(api: Api, owner: Account, workspace_id: int, invitee: Account) -> Any:
    """The inviter's reply, which must never say what became of the invitation."""
    reply = await api.call(
        "POST", members_path(workspace_id), owner, 202, json={"user_id": invitee.id}
    )
    assert reply["workspace_id"] == workspace_id
    return reply["detail"]


async def pending_from(api: Api, invitee: Account) -> list[tuple[int, int]]:
    """The invitee's list, as (inviter id, workspace id), oldest first."""
    return [(i["invited_by"]["id"], i["workspace_id"]) for i in await api.invitations(invitee)]


async def test_strangers_cannot_keep_a_list_full_and_a_colleagues_invitation_arrives(
    api: Api,
) -> None:
    victim, colleague = await api.register("victim"), await api.register("colleague")
    await api.workspace(colleague, victim)  # they work together
    strangers = [await api.register(f"stranger{n}") for n in range(3)]
    spam = {s.id: [await api.workspace(s) for _ in range(3)] for s in strangers}

    replies = set()
    for stranger in strangers[:2]:
        for workspace in spam[stranger.id]:
            replies.add(await invite(api, stranger, workspace["id"], victim))
    # Two per inviter (the newest two: a later invitation is never the one dropped),
    # so two strangers fill the list of four.
    listed = await pending_from(api, victim)
    assert listed == [(s.id, w["id"]) for s in strangers[:2] for w in spam[s.id][1:]], (
        "each inviter keeps only their newest two"
    )

    # A colleague's invitation arrives in a full list: a stranger's oldest makes room.
    team = await api.workspace(colleague)
    replies.add(await invite(api, colleague, team["id"], victim))
    listed = await pending_from(api, victim)
    assert (colleague.id, team["id"]) in listed and len(listed) == 4
    assert (strangers[0].id, spam[strangers[0].id][1]["id"]) not in listed

    # More strangers keep inviting: the colleague's stays, strangers replace strangers.
    for workspace in spam[strangers[2].id]:
        replies.add(await invite(api, strangers[2], workspace["id"], victim))
    listed = await pending_from(api, victim)
    assert len(listed) == 4
    assert (colleague.id, team["id"]) in listed
    assert (strangers[2].id, spam[strangers[2].id][2]["id"]) in listed  # the newest one
    assert len(replies) == 1  # every invitation got the same answer

    accepted = await api.accept_invitation(victim, team["id"])
    assert accepted["id"] == team["id"]


async def test_invitations_are_rate_limited_per_inviter(api: Api) -> None:
    owner, other_owner = await api.register("owner"), await api.register("other")
    workspace = await api.workspace(owner)
    invitees = [await api.register(f"invitee{n}") for n in range(7)]
    for invitee in invitees[:5]:
        await invite(api, owner, workspace["id"], invitee)
    # An unknown user counts as any other: the limit says nothing about who exists.
    await api.call("POST", members_path(workspace["id"]), owner, 202, json={"username": "nobody1"})

    for body in ({"user_id": invitees[5].id}, {"username": unique("nobody")}):
        response = await api.http.post(
            members_path(workspace["id"]), headers=owner.headers, json=body
        )
        assert response.status_code == 429, response.text
        assert response.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert await api.invitations(invitees[5]) == []

    # Another inviter is not held back by it.
    theirs = await api.workspace(other_owner)
    await invite(api, other_owner, theirs["id"], invitees[6])
    assert [w for _, w in await pending_from(api, invitees[6])] == [theirs["id"]]


async def test_a_user_owns_a_bounded_number_of_workspaces(api: Api) -> None:
    owner, member = await api.register("owner"), await api.register("member")
    made = [await api.workspace(owner) for _ in range(3)]
    refused = await api.call("POST", "/api/v1/workspaces/", owner, 409, json={"name": "fourth"})
    assert refused["code"] == "conflict"
    assert [w["id"] for w in await api.call("GET", "/api/v1/workspaces/", owner)] == [
        w["id"] for w in made
    ]

    # Handing one over is refused to someone who owns the most one may, too.
    for _ in range(3):
        await api.workspace(member)
    await api.add_member(owner, made[0]["id"], member)
    transfer = f"/api/v1/workspaces/{made[0]['id']}/owner"
    refused = await api.call("POST", transfer, owner, 409, json={"user_id": member.id})
    assert refused["code"] == "conflict"
    roles = await api.call("GET", members_path(made[0]["id"]), owner)
    assert {m["user_id"]: m["role"] for m in roles} == {owner.id: "owner", member.id: "member"}

    # Once the member owns fewer, the transfer goes through, and the former owner,
    # owning one fewer, may make one again.
    heir = await api.register("heir")
    theirs = next(
        w
        for w in await api.call("GET", "/api/v1/workspaces/", member)
        if w["owner_id"] == member.id
    )
    await api.add_member(member, theirs["id"], heir)
    path = f"/api/v1/workspaces/{theirs['id']}/owner"
    await api.call("POST", path, member, json={"user_id": heir.id})
    moved = await api.call("POST", transfer, owner, json={"user_id": member.id})
    assert moved["owner_id"] == member.id
    await api.call("POST", "/api/v1/workspaces/", owner, 201, json={"name": "again"})


async def test_rooms_are_bounded_per_workspace_and_per_creator(api: Api) -> None:
    owner, ann, bob = (
        await api.register("owner"),
        await api.register("ann"),
        await api.register("bob"),
    )
    workspace = await api.workspace(owner, ann, bob)
    wid = workspace["id"]
    body = {"workspace_id": wid, "name": "one too many"}

    mine = [await api.room(ann, wid) for _ in range(2)]
    refused = await api.call("POST", "/api/v1/room-chats/", ann, 409, json=body)
    assert refused["code"] == "conflict" and "you have made" in refused["message"]
    await api.room(bob, wid)
    await api.room(owner, wid)
    refused = await api.call("POST", "/api/v1/room-chats/", bob, 409, json=body)
    assert refused["code"] == "conflict" and "this workspace has" in refused["message"]
    listed = await api.call("GET", f"/api/v1/room-chats/workspace/{wid}", owner)
    assert len(listed) == 4 and "one too many" not in {r["name"] for r in listed}

    # A deleted room no longer counts.
    await api.call("DELETE", f"/api/v1/room-chats/{mine[0]['id']}", ann)
    await api.room(ann, wid)


async def test_api_key_creation_is_rate_limited_and_revoked_bots_leave(
    server: ServerProcess, api: Api
) -> None:
    owner, member, other = (
        await api.register("owner"),
        await api.register("member"),
        await api.register("other"),
    )
    workspace = await api.workspace(owner, member)
    wid = workspace["id"]
    room = await api.room(owner, wid)
    await api.call(
        "POST", f"/api/v1/room-users/room/{room['id']}", owner, 201, json={"user_id": member.id}
    )
    keys = f"/api/v1/workspaces/{wid}/api-keys"
    conn = await Ws.connect(server.ws_url, member)
    try:
        await conn.join(room["id"])
        bots = []
        for n in range(3):  # create-and-revoke cycles
            made = await api.call("POST", keys, owner, 201, json={"name": f"cycle {n}"})
            bot = Account(made["user"], made["key"])
            await api.call(
                "POST", f"/api/v1/room-users/room/{room['id']}", bot, 201, json={"user_id": bot.id}
            )
            await api.call(
                "POST",
                f"/api/v1/room-chats/{room['id']}/messages",
                bot,
                201,
                json={"message_text": f"from bot {n}"},
            )
            await api.call("DELETE", f"{keys}/{made['id']}", owner)
            bots.append(bot)
        # The fourth key within the minute: refused, and nothing made.
        response = await api.http.post(keys, headers=owner.headers, json={"name": "fourth"})
        assert response.status_code == 429, response.text
        assert response.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        listed = await api.call("GET", keys, owner)
        assert [k["name"] for k in listed] == ["cycle 0", "cycle 1", "cycle 2"]
        assert all(k["revoked_at"] is not None for k in listed)

        # Each revoked bot left the workspace and the room, and the room heard it.
        left = [
            f["data"]["user_id"]
            for f in await marker(conn)
            if f.get("action") == "room_member_left"
        ]
        assert left == [b.id for b in bots]
    finally:
        await conn.close()
    members = await api.call("GET", members_path(wid), owner)
    assert {m["user_id"] for m in members} == {owner.id, member.id}
    in_room = await api.call("GET", f"/api/v1/room-users/room/{room['id']}", owner)
    assert {m["user_id"] for m in in_room} == {owner.id, member.id}
    # What they posted keeps its author.
    page = await api.call("GET", f"/api/v1/room-chats/{room['id']}/messages", member)
    assert [(m["user_id"], m["message_text"]) for m in page["messages"]] == [
        (b.id, f"from bot {n}") for n, b in enumerate(bots)
    ]

    # Another owner's keys are not held back by it.
    theirs = await api.workspace(other)
    await api.call(
        "POST", f"/api/v1/workspaces/{theirs['id']}/api-keys", other, 201, json={"name": "k"}
    )
