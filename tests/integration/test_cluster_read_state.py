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
        expected = {
            "room_id": rid,
            "last_read_seq": said["seq"],
            "unread_count": 0,
            "thread_unread": 0,
            "mention_count": 0,
        }
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


async def test_workspace_activity_from_the_other_instance_in_order(two: Cluster) -> None:
    """bob's sidebar on B follows the workspace; messages stored, edited and deleted
    through A reach it as room_activity, with seqs only going up and the last one
    carrying the room's newest state."""
    a_instance, b_instance = two.instances
    api = Api(a_instance.base_url)
    try:
        room, (alice, bob) = await room_with(api, 2)
        rid, wid = room["id"], room["workspace_id"]
        alice_a = await Client(alice, "alice@A").connect(a_instance)
        await alice_a.join(rid)
        bob_a = await Client(bob, "bob@A").connect(a_instance)
        await bob_a.join(rid)  # makes bob a member
        sidebar = await Client(bob, "bob-sidebar@B").connect(b_instance)
        followed = await sidebar.request("subscribe_workspace", {"workspace_id": wid})
        assert followed["status"] == "success"

        sent = [await alice_a.say(rid, f"m{n}") for n in range(5)]
        edited = await alice_a.request(
            "edit_room_chat_message",
            {"room_id": rid, "message_id": sent[0]["id"], "message_text": "m0!"},
        )
        deleted = await alice_a.request(
            "delete_room_chat_message", {"room_id": rid, "message_id": sent[-1]["id"]}
        )
        last_seq = deleted["data"]["seq"]
        assert edited["status"] == "success"
        await sidebar.wait(
            lambda: any(a["seq"] == last_seq for a in got(sidebar, "room_activity")), 30, "last"
        )
        seen = got(sidebar, "room_activity")
        seqs = [a["seq"] for a in seen]
        assert seqs == sorted(set(seqs)) and all(a["room_id"] == rid for a in seen)
        assert seen[-1]["unread_count"] == 4
        assert seen[-1]["last_message"]["id"] == sent[-2]["id"]
        for client in (alice_a, bob_a, sidebar):
            await client.disconnect()
    finally:
        await api.aclose()
