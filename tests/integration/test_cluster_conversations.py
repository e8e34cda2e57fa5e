"""Threads and mentions across instances (PostgreSQL and the Kafka-protocol broker).

A client's instance is SIGKILLed while replies are written through another: it
reconnects there with the last seq it applied, and the catch-up holds every reply and
every ``room_chat_thread_updated`` once, in seq order, as the other clients were
broadcast them; the thread it builds from them is the one REST shows; live replies from
the killed instance's replacement then follow without a gap or a repeat. A mention
reaches the mentioned user's connection on the other instance, which joined no room.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_cluster_catch_up import broadcasts, reached, replace, seqs
from tests.support.client import Api
from tests.support.cluster import Client, Cluster, cluster, room_with
from tests.support.kafka import Broker

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]

WAIT = 30.0
NEW = "new_room_chat_message"
THREAD = "room_chat_thread_updated"
EDITED = "room_chat_message_edited"


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(broker, tmp_path, 2) as running:
        yield running


async def reply(client: Client, room_id: int, root_id: int, text: str) -> dict[str, Any]:
    answer = await client.request(
        "send_room_chat_message",
        {"room_id": room_id, "message_text": text, "thread_root_id": root_id},
    )
    assert answer["status"] == "success", answer
    return dict(answer["data"])


def thread_of(events: list[dict[str, Any]], root_id: int) -> dict[str, Any] | None:
    """The root's thread as the events leave it (the last room_chat_thread_updated)."""
    moved = [e for e in events if e["action"] == THREAD and e["data"]["thread_root_id"] == root_id]
    return moved[-1]["data"]["thread"] if moved else None


async def test_replies_are_caught_up_once_in_order_after_an_instance_kill(two: Cluster) -> None:
    a, b = two.instances
    api = Api(b.base_url)
    try:
        room, (alice, bob, carol) = await room_with(api, 3)
        rid = room["id"]
        alice_b = await Client(alice, "alice@B").connect(b)
        carol_b = await Client(carol, "carol@B").connect(b)
        bob_a = await Client(bob, "bob@A").connect(a)
        for client in (alice_b, carol_b, bob_a):
            await client.join(rid)
        root = await alice_b.say(rid, "the plan?")
        first = await reply(carol_b, rid, root["id"], "step one")
        await reached(bob_a, rid, first["seq"] + 1)
        after_seq = first["seq"] + 1
        assert seqs(broadcasts(bob_a, rid))[-2:] == [first["seq"], after_seq]

        await asyncio.to_thread(a.kill)
        await bob_a.wait(lambda: not bob_a.connected, WAIT, "dropped by the killed instance")
        since_carol = len(carol_b.frames)
        second = await reply(carol_b, rid, root["id"], "step two")
        await reply(alice_b, rid, root["id"], "step three")
        edited = await carol_b.request(
            "edit_room_chat_message",
            {"room_id": rid, "message_id": second["id"], "message_text": "step 2"},
        )
        assert edited["status"] == "success"
        await alice_b.say(rid, "back in the room")
        done = [NEW, THREAD, NEW, THREAD, EDITED, NEW]

        since = len(bob_a.frames)
        await bob_a.connect(b)
        data = (await bob_a.join(rid, after_seq=after_seq))["data"]
        events = data["events"]
        assert data["has_more"] is False
        assert [e["action"] for e in events] == done
        assert seqs(events) == list(range(after_seq + 1, data["seq"] + 1))
        # As carol was broadcast them (the log shows the edited reply as it is now).
        await reached(carol_b, rid, data["seq"], since_carol)
        live = broadcasts(carol_b, rid, since_carol)
        assert [(e["action"], e["data"]["seq"]) for e in live] == [
            (e["action"], e["data"]["seq"]) for e in events
        ]
        # The thread bob builds from the events is the one REST shows.
        page = await api.call("GET", f"/api/v1/room-chats/{rid}/threads/{root['id']}", bob)
        assert thread_of(events, root["id"]) == page["messages"][0]["thread"]
        assert page["messages"][0]["thread"]["reply_count"] == 3
        assert [m["message_text"] for m in page["messages"][1:]] == [
            "step one",
            "step 2",
            "step three",
        ]

        # Live again: a reply through A's replacement reaches bob once, right after.
        alice_a2 = await Client(alice, "alice@A2").connect(await replace(two, a))
        await alice_a2.join(rid)
        fourth = await reply(alice_a2, rid, root["id"], "step four")
        assert fourth["seq"] == data["seq"] + 1
        await reached(bob_a, rid, data["seq"] + 2, since)
        await bob_a.request("ping", {})  # a repeat would have come before its pong
        after = [e for e in broadcasts(bob_a, rid, since) if e["data"]["seq"] > data["seq"]]
        assert [(e["action"], e["data"]["seq"]) for e in after] == [
            (NEW, data["seq"] + 1),
            (THREAD, data["seq"] + 2),
        ]
        assert after[1]["data"]["thread"]["reply_count"] == 4
        for client in (alice_b, carol_b, bob_a, alice_a2):
            await client.disconnect()
    finally:
        await api.aclose()


async def test_a_mention_reaches_the_member_on_the_other_instance_who_joined_no_room(
    two: Cluster,
) -> None:
    a, b = two.instances
    api = Api(a.base_url)
    try:
        room, (alice, bob, carol) = await room_with(api, 3)
        rid = room["id"]
        for member in (bob, carol):
            path = f"/api/v1/room-users/room/{rid}"
            await api.call("POST", path, alice, 201, json={"user_id": member.id})
        alice_a = await Client(alice, "alice@A").connect(a)
        await alice_a.join(rid)
        bob_b = await Client(bob, "bob@B").connect(b)  # joins nothing
        carol_b = await Client(carol, "carol@B").connect(b)
        said = await alice_a.say(rid, f"@{bob.user['username']} have a look")
        assert said["mentions"] == [bob.id]

        def mentions(client: Client) -> list[dict[str, Any]]:
            return [f["data"] for f in client.frames if f.get("action") == "room_chat_mention"]

        await bob_b.wait(lambda: bool(mentions(bob_b)), WAIT, "the mention on B")
        assert mentions(bob_b) == [{"room_id": rid, "seq": said["seq"], "message": said}]
        # An edit that adds carol tells her, on B too; bob, named before, is not told again.
        edited = await alice_a.request(
            "edit_room_chat_message",
            {
                "room_id": rid,
                "message_id": said["id"],
                "message_text": f"@{bob.user['username']} @{carol.user['username']} look",
            },
        )
        assert edited["data"]["message"]["mentions"] == [bob.id, carol.id]
        await carol_b.wait(lambda: bool(mentions(carol_b)), WAIT, "carol's mention on B")
        await bob_b.request("ping", {})
        await carol_b.request("ping", {})
        assert len(mentions(bob_b)) == 1 and len(mentions(carol_b)) == 1
        assert mentions(carol_b)[0]["message"]["mentions"] == [bob.id, carol.id]
        for client in (alice_a, bob_b, carol_b):
            await client.disconnect()
    finally:
        await api.aclose()
