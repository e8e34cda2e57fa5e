"""Sidebar activity across two instances under sends on both: each instance hears its
own messages at once and the other's a moment later over the bus, so events arrive out
of seq order; what a sidebar is sent for a room still only goes forward."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import Api
from tests.support.cluster import Client, Cluster, cluster, room_with, stream
from tests.support.kafka import Broker

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    # Short coalescing: more flushes, so more chances for a late event to be sent.
    with cluster(broker, tmp_path, 2, activity_interval_ms="10") as running:
        yield running


def activity(client: Client) -> list[dict[str, Any]]:
    return [f["data"] for f in client.frames if f.get("action") == "room_activity"]


async def test_activity_only_goes_forward_while_both_instances_send(two: Cluster) -> None:
    a_instance, b_instance = two.instances
    api = Api(a_instance.base_url)
    try:
        room, (alice, carol, bob) = await room_with(api, 3)
        rid, wid = room["id"], room["workspace_id"]
        alice_a = await Client(alice, "alice@A").connect(a_instance)
        carol_b = await Client(carol, "carol@B").connect(b_instance)
        bob_a = await Client(bob, "bob@A").connect(a_instance)
        for client in (alice_a, carol_b, bob_a):
            await client.join(rid)  # members of the room
        sidebars = [
            await Client(bob, f"bob-sidebar@{name}").connect(instance)
            for name, instance in (("A", a_instance), ("B", b_instance))
        ]
        for sidebar in sidebars:
            followed = await sidebar.request("subscribe_workspace", {"workspace_id": wid})
            assert followed["status"] == "success"

        texts = {c: [f"{c.name}-{n}" for n in range(150)] for c in (alice_a, carol_b)}
        left = await asyncio.gather(*(stream(c, rid, t) for c, t in texts.items()))
        assert not any(left)
        last = max(
            f["data"]["seq"]
            for c in (alice_a, carol_b)
            for f in c.frames
            if f.get("action") == "send_room_chat_message" and f.get("status") == "success"
        )
        for sidebar in sidebars:
            await sidebar.wait(
                lambda s=sidebar: any(x["seq"] == last for x in activity(s)),  # type: ignore[misc]
                30,
                "the last message's activity",
            )
            seqs = [x["seq"] for x in activity(sidebar)]
            went_back = [(x, y) for x, y in pairwise(seqs) if y <= x]
            assert not went_back, f"{sidebar.name}: {len(went_back)} went back: {went_back[:5]}"
        for client in (alice_a, carol_b, bob_a, *sidebars):
            await client.disconnect()
    finally:
        await api.aclose()
