"""Issue 22, finding 8: a ``typing_indicator`` with a ``request_id`` is replied to.

A client that awaits every request by its id timed out on typing indicators, which had
no reply. Now one carrying a ``request_id`` gets ``{room_id, is_typing}`` back under that
id; one without stays unanswered (a reply without an id would look like a broadcast);
the room's other connections see the broadcast either way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.support.client import Api, Frame, Ws, marker
from tests.support.server import ServerProcess


def replying_to(request_id: str | int) -> Callable[[Frame], bool]:
    return lambda f: f.get("request_id") == request_id


def is_broadcast(f: dict[str, object]) -> bool:
    return f.get("action") == "typing_indicator" and "request_id" not in f


async def test_a_typing_indicator_with_a_request_id_is_replied(
    server: ServerProcess, api: Api
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    workspace = await api.workspace(alice, bob)
    room = await api.room(alice, workspace["id"])
    a, b = await Ws.connect(server.ws_url, alice), await Ws.connect(server.ws_url, bob)
    try:
        await a.join(room["id"])
        await b.join(room["id"])
        for request_id, is_typing in ((uuid.uuid4().hex, True), (7, False)):
            payload = {"room_id": room["id"], "is_typing": is_typing}
            await a.send("typing_indicator", payload, request_id=request_id)
            reply = await a.wait_for(replying_to(request_id))
            assert reply == {
                "action": "typing_indicator",
                "status": "success",
                "request_id": request_id,
                "data": {"room_id": room["id"], "is_typing": is_typing},
            }
            seen = await b.wait_for(is_broadcast)
            assert seen["data"] == {
                "room_id": room["id"],
                "user_id": alice.id,
                "is_typing": is_typing,
            }
        # Nothing else came to the typing connection: no broadcast of its own typing.
        assert not [f for f in await marker(a) if f.get("action") == "typing_indicator"]
    finally:
        await a.close()
        await b.close()


async def test_without_a_request_id_there_is_no_reply(server: ServerProcess, api: Api) -> None:
    alice = await api.register("alice")
    room = await api.room(alice, (await api.workspace(alice))["id"])
    a = await Ws.connect(server.ws_url, alice)
    try:
        await a.join(room["id"])
        await a.send("typing_indicator", {"room_id": room["id"], "is_typing": True})
        assert not [f for f in await marker(a) if f.get("action") == "typing_indicator"]
    finally:
        await a.close()
