"""Passcode rooms over real sockets: the code gates the first join, wrong tries are limited."""

from __future__ import annotations

import json

from tests.support.client import Api, Ws, error_code
from tests.support.server import ServerProcess

PASSCODE = "zebra-7391"


async def test_passcode_room_needs_the_right_code_and_members_rejoin_without_it(
    server: ServerProcess, api: Api
) -> None:
    owner, guest = await api.register("owner"), await api.register("guest")
    ws = await api.workspace(owner, guest)
    room = await api.room(owner, ws["id"], passcode=PASSCODE)
    assert room["has_passcode"] is True

    conn = await Ws.connect(server.ws_url, guest)
    try:
        no_code = await conn.request("join_room_chat", {"room_id": room["id"]})
        assert error_code(no_code) == "wrong_passcode"
        wrong = await conn.request("join_room_chat", {"room_id": room["id"], "passcode": "0000"})
        assert error_code(wrong) == "wrong_passcode"
        # Neither attempt made the guest a member.
        members = await api.call("GET", f"/api/v1/room-users/room/{room['id']}", owner)
        assert {m["user_id"] for m in members} == {owner.id}

        joined = await conn.join(room["id"], passcode=PASSCODE)
        assert joined["data"]["room"]["id"] == room["id"]
    finally:
        await conn.close()

    # A member comes back on a new connection without the code.
    again = await Ws.connect(server.ws_url, guest)
    try:
        await again.join(room["id"])
    finally:
        await again.close()
    # The creator is a member from the start.
    creator = await Ws.connect(server.ws_url, owner)
    try:
        await creator.join(room["id"])
    finally:
        await creator.close()


async def test_five_wrong_passcodes_lock_out_that_user_even_with_the_right_code(
    server: ServerProcess, api: Api
) -> None:
    owner, guesser, other = (
        await api.register("owner"),
        await api.register("guesser"),
        await api.register("other"),
    )
    ws = await api.workspace(owner, guesser, other)
    room = await api.room(owner, ws["id"], passcode=PASSCODE)
    second_room = await api.room(owner, ws["id"], passcode=PASSCODE)

    g = await Ws.connect(server.ws_url, guesser)
    o = await Ws.connect(server.ws_url, other)
    try:
        for attempt in range(5):
            reply = await g.request(
                "join_room_chat", {"room_id": room["id"], "passcode": f"guess-{attempt}"}
            )
            assert error_code(reply) == "wrong_passcode", (attempt, reply)
        locked = await g.request("join_room_chat", {"room_id": room["id"], "passcode": PASSCODE})
        assert error_code(locked) == "rate_limited"
        members = await api.call("GET", f"/api/v1/room-users/room/{room['id']}", owner)
        assert guesser.id not in {m["user_id"] for m in members}

        # A new connection does not reset the count.
        fresh = await Ws.connect(server.ws_url, guesser)
        try:
            reply = await fresh.request(
                "join_room_chat", {"room_id": room["id"], "passcode": PASSCODE}
            )
            assert error_code(reply) == "rate_limited"
        finally:
            await fresh.close()

        # Another user is not limited, and the guesser is not limited in another room.
        await o.join(room["id"], passcode=PASSCODE)
        await g.join(second_room["id"], passcode=PASSCODE)
    finally:
        await g.close()
        await o.close()


async def test_join_link_makes_a_workspace_member_a_room_member_with_the_passcode(
    server: ServerProcess, api: Api
) -> None:
    owner, member, outsider = (
        await api.register("owner"),
        await api.register("member"),
        await api.register("outsider"),
    )
    ws = await api.workspace(owner, member)
    room = await api.room(owner, ws["id"], passcode=PASSCODE)
    assert room["link_join"].startswith(f"{server.base_url}/join/")
    token = room["link_join"].rsplit("/", 1)[1]
    path = f"/api/v1/room-chats/join/{token}"

    error = await api.call("POST", path, outsider, 403, json={"passcode": PASSCODE})
    assert error["code"] == "forbidden"
    error = await api.call("POST", f"{path}x", member, 404)
    assert error["code"] == "not_found"
    error = await api.call("POST", "/api/v1/room-chats/join/not-a-token", member, 404)
    assert error["code"] == "not_found"
    # The link alone is not enough: the passcode is asked for, and a wrong one counted.
    error = await api.call("POST", path, member, 403)
    assert error["code"] == "wrong_passcode"
    error = await api.call("POST", path, member, 403, json={"passcode": "0000"})
    assert error == {"code": "wrong_passcode", "message": "wrong passcode (4 tries left)"}

    joined = await api.call("POST", path, member, json={"passcode": PASSCODE})
    assert joined["id"] == room["id"] and joined["link_join"] == room["link_join"]
    members = await api.call("GET", f"/api/v1/room-users/room/{room['id']}", owner)
    assert {m["user_id"] for m in members} == {owner.id, member.id}
    assert outsider.id not in {m["user_id"] for m in members}
    # A member follows the link again without the passcode.
    assert (await api.call("POST", path, member))["id"] == room["id"]

    # Now a member: the WebSocket join needs no passcode, and sending works.
    conn = await Ws.connect(server.ws_url, member)
    try:
        await conn.join(room["id"])
        await conn.say(room["id"], "in by link")
    finally:
        await conn.close()


async def test_join_link_without_a_passcode_needs_no_body(api: Api) -> None:
    owner, member = await api.register("owner"), await api.register("member")
    ws = await api.workspace(owner, member)
    room = await api.room(owner, ws["id"])
    token = room["link_join"].rsplit("/", 1)[1]
    joined = await api.call("POST", f"/api/v1/room-chats/join/{token}", member)
    assert joined["id"] == room["id"]
    # A passcode sent to a room without one is ignored; a malformed body is refused.
    again = await api.call(
        "POST", f"/api/v1/room-chats/join/{token}", member, json={"passcode": "x" * 10}
    )
    assert again["id"] == room["id"]
    error = await api.call(
        "POST", f"/api/v1/room-chats/join/{token}", member, 422, json={"passcode": 1234}
    )
    assert error["code"] == "validation_error"


async def test_the_passcode_is_never_returned(server: ServerProcess, api: Api) -> None:
    owner, member = await api.register("owner"), await api.register("member")
    ws = await api.workspace(owner, member)
    bodies: list[str] = []

    response = await api.http.post(
        "/api/v1/room-chats/",
        headers=owner.headers,
        json={"workspace_id": ws["id"], "name": "secret", "passcode": PASSCODE},
    )
    assert response.status_code == 201
    bodies.append(response.text)
    room = response.json()["data"]
    token = room["link_join"].rsplit("/", 1)[1]
    for method, path, body in [
        ("GET", f"/api/v1/room-chats/{room['id']}", None),
        ("GET", f"/api/v1/room-chats/workspace/{ws['id']}", None),
        ("POST", f"/api/v1/room-chats/join/{token}", {"passcode": PASSCODE}),
        ("GET", f"/api/v1/room-users/room/{room['id']}", None),
        ("GET", f"/api/v1/room-chats/{room['id']}", None),
    ]:
        response = await api.http.request(method, path, headers=member.headers, json=body)
        assert response.status_code == 200, response.text
        bodies.append(response.text)

    conn = await Ws.connect(server.ws_url, member)
    try:
        joined = await conn.join(room["id"])
        bodies.append(json.dumps(joined))
    finally:
        await conn.close()

    for body in bodies:
        assert PASSCODE not in body
        assert "passcode_hash" not in body and "$argon2" not in body
        assert '"passcode"' not in body
    assert joined["data"]["room"]["has_passcode"] is True


async def test_a_passcode_must_be_4_to_64_characters(api: Api) -> None:
    owner = await api.register("owner")
    ws = await api.workspace(owner)
    for passcode in ("123", "x" * 65):
        error = await api.call(
            "POST",
            "/api/v1/room-chats/",
            owner,
            422,
            json={"workspace_id": ws["id"], "name": "r", "passcode": passcode},
        )
        assert error["code"] == "validation_error"
    rooms = await api.call("GET", f"/api/v1/room-chats/workspace/{ws['id']}", owner)
    assert rooms == []
