"""Read state across instances: marking read on instance A reaches the user's other
devices on B (room_read_updated, whether joined or not) and the room's members on B
(room_chat_read), through the bus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import Api
from tests.support.cluster import Client, Cluster, cluster, room_with
from tests.support.kafka import Broker

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(broker, tmp_path, 2) as running:
        yield running


def got(client: Client, action: str) -> list[Any]:
    return [f["data"] for f in client.frames if f.get("action") == action]


async def test_a_mark_on_a_reaches_the_devices_and_the_room_on_b(two: Cluster) -> None:
    a_instance, b_instance = two.instances
    api = Api(a_instance.base_url)
    try:
        room, (alice, bob) = await room_with(api, 2)
        rid = room["id"]
        bob_desktop = await Client(bob, "bob@A").connect(a_instance)
        bob_phone = await Client(bob, "bob-phone@B").connect(b_instance)  # not joined
        alice_b = await Client(alice, "alice@B").connect(b_instance)
        await alice_b.join(rid)
        await bob_desktop.join(rid)
        said = await alice_b.say(rid, "hello bob")
        await bob_desktop.wait(lambda: bool(got(bob_desktop, "new_room_chat_message")), 30, "msg")

        reply = await bob_desktop.request("mark_room_read", {"room_id": rid, "seq": said["seq"]})
        assert reply["status"] == "success"
        expected = {"room_id": rid, "last_read_seq": said["seq"], "unread_count": 0}
        assert reply["data"] == expected
        await bob_phone.wait(lambda: expected in got(bob_phone, "room_read_updated"), 30, "sync")
        receipt = {"room_id": rid, "user_id": bob.id, "last_read_seq": said["seq"]}
        await alice_b.wait(lambda: receipt in got(alice_b, "room_chat_read"), 30, "receipt")
        # A user signal reaches that user's connections only, never the room's others.
        assert got(alice_b, "room_read_updated") == []
        for client in (bob_desktop, bob_phone, alice_b):
            await client.disconnect()
    finally:
        await api.aclose()
