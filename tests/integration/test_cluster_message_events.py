"""Message changes cross instances: an edit, a delete and a reaction made on instance A
reach a client of instance B in seq order, each exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.cluster import Cluster, cluster, joined_clients, room_with
from tests.support.kafka import Broker

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]

CHANGES = {
    "room_chat_message_edited",
    "room_chat_message_deleted",
    "room_chat_reaction_added",
    "room_chat_reaction_removed",
}


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(broker, tmp_path, 2) as running:
        yield running


async def test_changes_on_one_instance_reach_the_other_in_order_once(two: Cluster) -> None:
    api = Api(two.instances[0].base_url)
    try:
        room, accounts = await room_with(api, 2)
        rid = room["id"]
        on_a, on_b = await joined_clients(two.instances, rid, accounts)  # A, B
        kept = await on_a.say(rid, "kept")
        gone = await on_a.say(rid, "gone")
        replies = [
            await on_a.request(
                "edit_room_chat_message",
                {"room_id": rid, "message_id": kept["id"], "message_text": "kept, edited"},
            ),
            await on_a.request(
                "add_room_chat_reaction",
                {"room_id": rid, "message_id": kept["id"], "reaction": "👍"},
            ),
            await on_a.request(
                "delete_room_chat_message", {"room_id": rid, "message_id": gone["id"]}
            ),
        ]
        assert all(r["status"] == "success" for r in replies), replies
        last = replies[-1]["data"]["seq"]

        def changes() -> list[tuple[str, int]]:
            return [
                (f["action"], f["data"]["seq"])
                for f in on_b.frames
                if f.get("action") in CHANGES and f["data"]["room_id"] == rid
            ]

        await on_b.wait(lambda: any(seq == last for _, seq in changes()), 30, "the delete")
        # A marker after the changes: anything repeated would have arrived before it.
        await on_a.say(rid, "after")
        await on_b.wait(lambda: on_b.last_seq(rid) == last + 1, 30, "the marker")
        assert changes() == [
            ("room_chat_message_edited", gone["seq"] + 1),
            ("room_chat_reaction_added", gone["seq"] + 2),
            ("room_chat_message_deleted", gone["seq"] + 3),
        ]
        seqs = [
            f["data"]["seq"]
            for f in on_b.frames
            if "request_id" not in f
            and f.get("status") == "success"
            and f.get("action") != "join_room_chat"
            and f["data"]["room_id"] == rid
        ]
        assert seqs == list(range(kept["seq"], last + 2))  # every event once, in seq order
        edited = next(f for f in on_b.frames if f.get("action") == "room_chat_message_edited")
        assert edited["data"]["message"]["message_text"] == "kept, edited"
        for client in (on_a, on_b):
            await client.disconnect()
    finally:
        await api.aclose()
