"""Presence on one instance, over real sockets: online_user_ids in join replies,
room_presence as members come and go, the grace period, and no presence in rooms
over the size limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.client import Account, Api, Ws
from tests.support.server import ServerProcess, module_server

PRESENCE = "room_presence"
GRACE_S = 1.5


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    settings = {
        "presence_grace_s": str(GRACE_S),
        "presence_max_members": "3",
        "join_rate_per_second": "1000",
        "join_burst": "1000",
    }
    with module_server(backend, tmp_path_factory, "presence", **settings) as s:
        yield s


def presence_of(user: Account, online: bool) -> Any:
    return lambda f: (
        f.get("action") == PRESENCE
        and f["data"]["user_id"] == user.id
        and (f["data"]["online"] is online)
    )


async def test_members_appear_and_go_and_a_quick_reconnect_is_no_flicker(
    server: ServerProcess, api: Api
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    ws = await api.workspace(alice, bob)
    rid = (await api.room(alice, ws["id"]))["id"]
    a = await Ws.connect(server.ws_url, alice)
    try:
        first = (await a.join(rid))["data"]
        assert first["online_user_ids"] == [alice.id]
        b = await Ws.connect(server.ws_url, bob)
        reply = (await b.join(rid))["data"]
        assert reply["online_user_ids"] == sorted([alice.id, bob.id])
        came = await a.wait_for(presence_of(bob, True))
        assert came["data"] == {"room_id": rid, "user_id": bob.id, "online": True}

        # bob's socket drops and he is back within the grace period: nothing to see.
        await b.close()
        b = await Ws.connect(server.ws_url, bob)
        await b.join(rid, after_seq=reply["seq"])
        # Then he leaves for good: offline once the grace period is over.
        await b.close()
        went = await a.wait_for(presence_of(bob, False), timeout=GRACE_S + 10)
        assert went["data"] == {"room_id": rid, "user_id": bob.id, "online": False}
        flicker = [f for f in a.received if f.get("action") == PRESENCE]
        assert [f["data"]["online"] for f in flicker] == [True, False]
        again = (await a.join(rid, after_seq=reply["seq"]))["data"]
        assert again["online_user_ids"] == [alice.id]
    finally:
        await a.close()


async def test_rooms_over_the_size_limit_have_no_presence(server: ServerProcess, api: Api) -> None:
    people = [await api.register(f"p{n}") for n in range(4)]
    ws = await api.workspace(*people)
    rid = (await api.room(people[0], ws["id"]))["id"]
    conns = [await Ws.connect(server.ws_url, p) for p in people]
    try:
        for conn in conns[:3]:
            assert (await conn.join(rid))["data"]["online_user_ids"] is not None
        # The fourth member takes the room over the limit (3): no presence from now on.
        big = (await conns[3].join(rid))["data"]
        assert big["online_user_ids"] is None
        said = await conns[0].say(rid, "marker")  # after anything the join broadcast
        await conns[0].wait_for(lambda f: f.get("data", {}).get("id") == said["id"])
        about_p3 = [
            f
            for f in conns[0].received
            if f.get("action") == PRESENCE and f["data"]["user_id"] == people[3].id
        ]
        assert about_p3 == []
        assert (await conns[1].join(rid))["data"]["online_user_ids"] is None
    finally:
        for conn in conns:
            await conn.close()
