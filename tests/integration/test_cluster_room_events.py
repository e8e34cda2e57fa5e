"""Membership and room changes across instances: a member removed through instance A
stops receiving on instance B at once; a room update made on A reaches B in seq order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import Api
from tests.support.cluster import Client, Cluster, cluster, room_with
from tests.support.kafka import Broker

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]

DURABLE = {"new_room_chat_message", "room_member_joined", "room_member_left", "room_chat_updated"}


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(broker, tmp_path, 2) as running:
        yield running


def durable(client: Client, room_id: int) -> list[tuple[str, int]]:
    """The room's durable broadcasts the client got, (action, seq) in arrival order."""
    return [
        (f["action"], f["data"]["seq"])
        for f in client.frames
        if f.get("action") in DURABLE
        and f.get("status") == "success"
        and "request_id" not in f
        and f["data"]["room_id"] == room_id
    ]


async def test_removed_on_a_stops_on_b_and_updates_reach_b_in_order(two: Cluster) -> None:
    a_instance, b_instance = two.instances
    api = Api(a_instance.base_url)
    try:
        room, (alice, bob, carol) = await room_with(api, 3)
        rid = room["id"]
        on_a = await Client(alice, "alice@A").connect(a_instance)
        bob_b = await Client(bob, "bob@B").connect(b_instance)
        carol_b = await Client(carol, "carol@B").connect(b_instance)
        for client in (on_a, bob_b, carol_b):
            await client.join(rid)

        # A room update and a removal through A.
        renamed = await api.call(
            "PATCH", f"/api/v1/room-chats/{rid}", alice, json={"name": "renamed"}
        )
        removed = await api.call("DELETE", f"/api/v1/room-users/room/{rid}/users/{bob.id}", alice)

        def got(client: Client, action: str, seq: int) -> bool:
            return (action, seq) in durable(client, rid)

        await bob_b.wait(lambda: got(bob_b, "room_member_left", removed["seq"]), 30, "left")
        # bob on B is sent away at once: his send there is forbidden.
        reply = await bob_b.request(
            "send_room_chat_message", {"room_id": rid, "message_text": "still here?"}
        )
        assert reply["status"] == "error" and reply["error"]["code"] == "forbidden"
        # A later message reaches carol on B, never bob (a ping after it proves it).
        after = await on_a.say(rid, "after bob")
        await carol_b.wait(lambda: got(carol_b, "new_room_chat_message", after["seq"]), 30, "msg")
        pong = await bob_b.request("ping", {})
        assert pong["action"] == "pong"
        assert durable(bob_b, rid)[-1] == ("room_member_left", removed["seq"])

        # carol on B saw every event from her join on, once, in seq order.
        seen = durable(carol_b, rid)
        assert [seq for _, seq in seen] == sorted({seq for _, seq in seen})
        assert [seq for _, seq in seen] == list(range(seen[0][1], after["seq"] + 1))
        updated: Any = next(f for f in carol_b.frames if f.get("action") == "room_chat_updated")
        assert updated["data"]["room"] == renamed
        assert ("room_member_left", removed["seq"]) in seen
        for client in (on_a, bob_b, carol_b):
            await client.disconnect()
    finally:
        await api.aclose()
