"""Typing indicators: the other joined connections see them, the typing user's own do not."""

from __future__ import annotations

from tests.support.client import Api, Ws, error_code, is_message, marker, until
from tests.support.server import ServerProcess


def is_typing(f: dict[str, object]) -> bool:
    return f.get("action") == "typing_indicator"


async def test_typing_reaches_the_other_connection_but_not_the_senders_own(
    server: ServerProcess, api: Api
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    ws = await api.workspace(alice, bob)
    room = await api.room(alice, ws["id"])
    a, a2, b = (
        await Ws.connect(server.ws_url, alice),
        await Ws.connect(server.ws_url, alice),
        await Ws.connect(server.ws_url, bob),
    )
    try:
        for conn in (a, a2, b):
            await conn.join(room["id"])

        await a.send("typing_indicator", {"room_id": room["id"], "is_typing": True})
        frame = await b.wait_for(is_typing)
        assert frame == {
            "action": "typing_indicator",
            "status": "success",
            "data": {"room_id": room["id"], "user_id": alice.id, "is_typing": True},
        }
        await a.send("typing_indicator", {"room_id": room["id"], "is_typing": False})
        frame = await b.wait_for(is_typing)
        assert frame["data"]["is_typing"] is False

        # The typing connection got neither indicator, nor any reply to them.
        before_pong = await marker(a)
        assert not [f for f in before_pong if is_typing(f)], before_pong

        # Alice's second connection: her own typing is not shown back to her either.
        await b.say(room["id"], "marker")
        arrived = await until(a2, is_message("marker"))
        assert not [f for f in arrived if is_typing(f)], arrived
    finally:
        for conn in (a, a2, b):
            await conn.close()


async def test_typing_is_forbidden_for_a_non_member_and_not_broadcast(
    server: ServerProcess, api: Api
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    ws = await api.workspace(alice, bob)
    room = await api.room(alice, ws["id"])
    a, b = await Ws.connect(server.ws_url, alice), await Ws.connect(server.ws_url, bob)
    try:
        await a.join(room["id"])
        # Bob is in the workspace but has not joined the room.
        reply = await b.request("typing_indicator", {"room_id": room["id"], "is_typing": True})
        assert error_code(reply) == "forbidden"
        reply = await b.request("typing_indicator", {"room_id": 10**9, "is_typing": True})
        assert error_code(reply) in {"not_found", "forbidden"}

        await a.say(room["id"], "marker")
        arrived = await until(a, is_message("marker"))
        assert not [f for f in arrived if is_typing(f)], arrived
    finally:
        await a.close()
        await b.close()


async def test_typing_with_a_wrong_type_is_a_validation_error(
    server: ServerProcess, api: Api
) -> None:
    alice = await api.register("alice")
    ws = await api.workspace(alice)
    room = await api.room(alice, ws["id"])
    a = await Ws.connect(server.ws_url, alice)
    try:
        await a.join(room["id"])
        reply = await a.request("typing_indicator", {"room_id": room["id"], "is_typing": "yes"})
        assert error_code(reply) == "validation_error"
        reply = await a.request("typing_indicator", {"room_id": room["id"]})
        assert error_code(reply) == "validation_error"
    finally:
        await a.close()
