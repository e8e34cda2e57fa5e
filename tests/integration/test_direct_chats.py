"""Direct conversations over real servers (SQLite and PostgreSQL): get-or-create of the
one room of a set of people, race-free; what it is (kind, no name, its people, no link);
that nobody outside the set sees, joins, reads or is added to it, and its people cannot
remove each other; bad input that changes nothing; the room list's kinds; and a member
who leaves the workspace keeping no access."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.client import Account, Api, Ws, error_code
from tests.support.server import ServerProcess

OPEN = "/api/v1/direct-chats/"


def rooms_path(workspace_id: int) -> str:
    return f"/api/v1/room-chats/workspace/{workspace_id}"


@dataclass
class Team:
    """A workspace of ``owner`` with ann, bob, cy and dan; ann's direct conversation
    with bob and cy (``room``)."""

    owner: Account
    ann: Account
    bob: Account
    cy: Account
    dan: Account
    workspace_id: int
    room: dict[str, Any]

    @property
    def room_id(self) -> int:
        return int(self.room["id"])


async def open_chat(
    api: Api, caller: Account, workspace_id: int, user_ids: list[Any], expect: int = 201
) -> Any:
    body = {"workspace_id": workspace_id, "user_ids": user_ids}
    return await api.call("POST", OPEN, caller, expect, json=body)


async def listed(api: Api, account: Account, workspace_id: int, **params: str) -> list[Any]:
    return list(await api.call("GET", rooms_path(workspace_id), account, params=params))


@pytest.fixture
async def team(api: Api) -> Team:
    owner, ann, bob, cy, dan = [await api.register(n) for n in ("owner", "ann", "bob", "cy", "dan")]
    ws = await api.workspace(owner, ann, bob, cy, dan)
    room = await open_chat(api, ann, ws["id"], [cy.id, bob.id])
    return Team(owner, ann, bob, cy, dan, ws["id"], room)


async def test_opening_makes_one_direct_room_of_the_set_and_then_answers_it(
    api: Api, team: Team
) -> None:
    room = team.room
    assert room["kind"] == "direct"
    assert room["name"] is None
    assert room["member_ids"] == sorted([team.ann.id, team.bob.id, team.cy.id])
    assert room["link_join"] is None and room["link_token"] is None
    assert room["has_passcode"] is False
    # Anyone of the set, in any order: the same room, 200.
    again = await open_chat(api, team.cy, team.workspace_id, [team.bob.id, team.ann.id], 200)
    assert again == room
    # Another set is another room.
    pair = await open_chat(api, team.ann, team.workspace_id, [team.bob.id])
    assert pair["id"] != room["id"] and pair["member_ids"] == sorted([team.ann.id, team.bob.id])
    members = await api.call("GET", f"/api/v1/room-users/room/{team.room_id}", team.bob)
    assert sorted(m["user_id"] for m in members) == room["member_ids"]


async def test_twenty_concurrent_opens_make_one_room(api: Api, team: Team) -> None:
    people = [team.ann, team.bob, team.cy, team.dan]

    async def one(n: int) -> tuple[int, int]:
        caller = people[n % len(people)]
        others = [p.id for p in people if p is not caller]
        body = {"workspace_id": team.workspace_id, "user_ids": others}
        response = await api.http.post(OPEN, headers=caller.headers, json=body)
        return response.status_code, int(response.json()["data"]["id"])

    answers = await asyncio.gather(*(one(n) for n in range(20)))
    assert {room_id for _, room_id in answers} == {answers[0][1]}
    assert sorted(status for status, _ in answers) == [200] * 19 + [201]
    direct = await listed(api, team.dan, team.workspace_id, kind="direct")
    assert [r["id"] for r in direct] == [answers[0][1]]


async def test_the_room_list_shows_rooms_and_only_ones_own_direct_rooms(
    api: Api, team: Team
) -> None:
    shared = await api.room(team.dan, team.workspace_id)
    for_dan = await listed(api, team.dan, team.workspace_id)
    assert [r["id"] for r in for_dan] == [shared["id"]]
    assert for_dan[0]["kind"] == "room" and for_dan[0]["member_ids"] is None
    for_bob = await listed(api, team.bob, team.workspace_id)
    assert sorted(r["id"] for r in for_bob) == sorted([team.room_id, shared["id"]])
    assert [r["id"] for r in await listed(api, team.bob, team.workspace_id, kind="direct")] == [
        team.room_id
    ]
    assert [r["id"] for r in await listed(api, team.bob, team.workspace_id, kind="room")] == [
        shared["id"]
    ]
    bad = await api.call("GET", rooms_path(team.workspace_id), team.bob, 422, params={"kind": "dm"})
    assert bad["code"] == "validation_error"


async def test_its_people_talk_and_read_as_in_any_room(
    server: ServerProcess, api: Api, team: Team
) -> None:
    a = await Ws.connect(server.ws_url, team.ann)
    b = await Ws.connect(server.ws_url, team.bob)
    try:
        await a.join(team.room_id)
        await b.join(team.room_id)
        said = await a.say(team.room_id, "just us")
        heard = await b.wait_for(lambda f: f.get("action") == "new_room_chat_message")
        assert heard["data"]["id"] == said["id"]
        [row] = await listed(api, team.bob, team.workspace_id, kind="direct")
        assert row["unread_count"] == 1 and row["last_message"]["id"] == said["id"]
    finally:
        await a.close()
        await b.close()


async def test_nobody_outside_the_set_sees_joins_reads_or_writes_it(
    server: ServerProcess, api: Api, team: Team
) -> None:
    rid = team.room_id
    for outsider in (team.dan, team.owner):
        for method, path in (
            ("GET", f"/api/v1/room-chats/{rid}"),
            ("GET", f"/api/v1/room-chats/{rid}/messages"),
            ("GET", f"/api/v1/room-chats/{rid}/events"),
            ("GET", f"/api/v1/room-users/room/{rid}"),
        ):
            refused = await api.call(method, path, outsider, 403)
            assert refused["code"] == "forbidden"
            assert str(rid) not in refused["message"]
        posted = await api.call(
            "POST", f"/api/v1/room-chats/{rid}/messages", outsider, 403, json={"message_text": "x"}
        )
        assert posted["code"] == "forbidden"
        ws = await Ws.connect(server.ws_url, outsider)
        try:
            for payload in ({"room_id": rid}, {"room_id": rid, "after_seq": 0}):
                reply = await ws.request("join_room_chat", payload)
                assert error_code(reply) == "forbidden"
                assert "data" not in reply
        finally:
            await ws.close()
    # The owner manages every room of the workspace, but adds nobody to this one.
    added = await api.call(
        "POST", f"/api/v1/room-users/room/{rid}", team.owner, 403, json={"user_id": team.dan.id}
    )
    assert added["code"] == "forbidden"
    # Someone of another workspace: forbidden too.
    stranger = await api.register("stranger")
    await api.workspace(stranger)
    refused = await api.call("GET", f"/api/v1/room-chats/{rid}/messages", stranger, 403)
    assert refused["code"] == "forbidden"
    members = await api.call("GET", f"/api/v1/room-users/room/{rid}", team.ann)
    assert len(members) == 3


async def test_its_people_cannot_remove_each_other_leave_or_change_it(api: Api, team: Team) -> None:
    rid = team.room_id
    for actor, user in ((team.ann, team.bob), (team.bob, team.bob), (team.owner, team.cy)):
        refused = await api.call(
            "DELETE", f"/api/v1/room-users/room/{rid}/users/{user.id}", actor, 403
        )
        assert refused["code"] == "forbidden"
    for actor in (team.ann, team.owner):
        for method, path, body in (
            ("PATCH", f"/api/v1/room-chats/{rid}", {"name": "ours"}),
            ("POST", f"/api/v1/room-chats/{rid}/link/rotate", None),
            ("DELETE", f"/api/v1/room-chats/{rid}", None),
        ):
            kwargs = {"json": body} if body is not None else {}
            refused = await api.call(method, path, actor, 403, **kwargs)
            assert refused["code"] == "forbidden"
    members = await api.call("GET", f"/api/v1/room-users/room/{rid}", team.ann)
    assert len(members) == 3
    assert (await api.call("GET", f"/api/v1/room-chats/{rid}", team.ann))["name"] is None


@pytest.mark.parametrize(
    ("others", "why"),
    [
        (lambda t: [], "none"),
        (lambda t: list(range(10**6, 10**6 + 9)), "nine"),
        (lambda t: [t.bob.id, t.bob.id], "a duplicate"),
        (lambda t: [t.ann.id, t.bob.id], "the caller"),
        (lambda t: [t.bob.id, t.stranger.id], "another workspace's"),
        (lambda t: [t.bob.id, 10**12], "nobody"),
        (lambda t: [str(t.bob.id)], "a string"),
    ],
    ids=["none", "nine", "duplicate", "caller", "other-workspace", "unknown", "string"],
)
async def test_bad_input_is_a_validation_error_and_changes_nothing(
    api: Api, team: Team, others: Any, why: str
) -> None:
    stranger = await api.register("stranger")
    await api.workspace(stranger)
    team.stranger = stranger  # type: ignore[attr-defined]
    before = await listed(api, team.ann, team.workspace_id)
    refused = await open_chat(api, team.ann, team.workspace_id, others(team), 422)
    assert refused["code"] == "validation_error", why
    assert await listed(api, team.ann, team.workspace_id) == before


async def test_outside_the_workspace_is_forbidden_and_no_workspace_not_found(
    api: Api, team: Team
) -> None:
    stranger = await api.register("stranger")
    refused = await open_chat(api, stranger, team.workspace_id, [team.ann.id], 403)
    assert refused["code"] == "forbidden"
    missing = await open_chat(api, team.ann, 10**12, [team.bob.id], 404)
    assert missing["code"] == "not_found"


async def test_leaving_the_workspace_ends_access_and_meeting_again_is_a_new_room(
    server: ServerProcess, api: Api, team: Team
) -> None:
    rid = team.room_id
    a = await Ws.connect(server.ws_url, team.ann)
    try:
        await a.join(rid)
        await a.say(rid, "before cy left")
    finally:
        await a.close()
    await api.call("DELETE", f"/api/v1/workspaces/{team.workspace_id}/members/me", team.cy)
    for path in (f"/api/v1/room-chats/{rid}/messages", f"/api/v1/room-chats/{rid}"):
        refused = await api.call("GET", path, team.cy, 403)
        assert refused["code"] == "forbidden"
    ws = await Ws.connect(server.ws_url, team.cy)
    try:
        assert error_code(await ws.request("join_room_chat", {"room_id": rid})) == "forbidden"
        reply = await ws.request("join_room_chat", {"room_id": rid, "after_seq": 0})
        assert error_code(reply) == "forbidden"
    finally:
        await ws.close()
    # The others keep it, without cy.
    members = await api.call("GET", f"/api/v1/room-users/room/{rid}", team.bob)
    assert sorted(m["user_id"] for m in members) == sorted([team.ann.id, team.bob.id])
    # Invited back, cy is in no old conversation: the set's conversation is a new one.
    await api.add_member(team.owner, team.workspace_id, team.cy)
    assert await listed(api, team.cy, team.workspace_id, kind="direct") == []
    fresh = await open_chat(api, team.ann, team.workspace_id, [team.bob.id, team.cy.id])
    assert fresh["id"] != rid
    history = await api.call("GET", f"/api/v1/room-chats/{fresh['id']}/messages", team.cy)
    assert history["messages"] == []
