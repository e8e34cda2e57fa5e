"""Under the default settings the broadcast fast path is the one chosen (the tests of
every other module would pass on the ASGI path too, only slower)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.client import Api, Ws, is_message
from tests.support.server import ServerProcess, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Nothing but what every test server needs (no ws_impl of its own); one backend."""
    with running_server("sqlite", tmp_path_factory.mktemp("fast-path")) as process:
        yield process


async def test_sockets_get_the_fast_path_and_broadcasts_arrive_through_it(
    server: ServerProcess, api: Api
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    workspace = await api.workspace(alice, bob)
    room = await api.room(alice, workspace["id"])
    a, b = await Ws.connect(server.ws_url, alice), await Ws.connect(server.ws_url, bob)
    try:
        for conn in (a, b):
            await conn.join(room["id"])
        await a.say(room["id"], "through the fast path")
        frame = await b.wait_for(is_message("through the fast path"))
        assert frame["action"] == "new_room_chat_message" and frame["status"] == "success"

        websocket = (await api.http.get("/readyz")).json()["checks"]["websocket"]
        assert websocket["fast_path"] is True, websocket
        assert websocket["sinks_opened"] == {"uvicorn-sansio": 2, "asgi": 0}
    finally:
        await a.close()
        await b.close()
