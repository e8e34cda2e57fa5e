"""A client that stops reading is disconnected (1013, or reset), not buffered without bound."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.support.client import Api, Ws
from tests.support.server import ServerProcess, running_server


@pytest.fixture(scope="module")
def small_queue_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory: Path = tmp_path_factory.mktemp("slow")
    with running_server(
        "sqlite",
        directory,
        send_rate_per_second="100000",
        send_burst="100000",
        outbound_queue_frames="8",
    ) as process:
        yield process


async def test_a_client_that_stops_reading_is_closed_with_1013_and_others_keep_going(
    small_queue_server: ServerProcess,
) -> None:
    api = Api(small_queue_server.base_url)
    alice, bob = await api.register("Alice"), await api.register("Bob")
    ws = await api.workspace(alice, bob)
    room = await api.room(alice, ws["id"])
    sender = await Ws.connect(small_queue_server.ws_url, alice)
    await sender.join(room["id"])
    # Bob's client joins, then stops reading.
    stalled = await websockets.connect(
        f"{small_queue_server.ws_url}?token={bob.token}",
        compression=None,
        max_queue=1,  # stops reading the socket once one frame waits
    )
    await stalled.send(json.dumps({"action": "join_room_chat", "payload": {"room_id": room["id"]}}))
    await stalled.recv()
    text = "x" * 3900
    # Enough to fill the kernel's socket buffers, then Bob's 8-frame queue. The
    # sender reads every reply, so it keeps up and stays connected.
    for n in range(1500):
        sent = await sender.say(room["id"], f"{n} {text}")
    assert sent["seq"] == 1501  # seq 1: Bob's room_member_joined
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(30):
            while True:
                await stalled.recv()
    # Closed with 1013, or, when even the close frame could not be handed to its socket
    # within a moment, reset (the frames that waited for it are dropped either way).
    received = closed.value.rcvd
    assert (received is not None and received.code == 1013) or (
        received is None and closed.value.sent is None
    ), closed.value
    # The sender kept going, and is still served.
    assert (await sender.request("ping", {}))["status"] == "success"
    await sender.close()
    await api.aclose()
