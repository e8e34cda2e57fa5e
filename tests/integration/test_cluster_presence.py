"""Presence across instances: a member joined on B shows online to a member on A (and
in A's join replies); a quick reconnect to the other instance shows no flicker; when
B is killed with SIGKILL, its users are shown offline on A within the TTL, without
anyone calling anything."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.cluster import Client, Cluster, cluster, room_with
from tests.support.kafka import Broker

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]

TTL_S = 4.0
PRESENCE = {"presence_grace_s": "2", "presence_ttl_s": str(TTL_S), "presence_refresh_s": "1"}


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(broker, tmp_path, 2, **PRESENCE) as running:
        yield running


def presence(client: Client, user_id: int) -> list[bool]:
    return [
        f["data"]["online"]
        for f in client.frames
        if f.get("action") == "room_presence" and f["data"]["user_id"] == user_id
    ]


async def test_presence_crosses_instances_and_a_killed_instance_goes_offline(
    two: Cluster,
) -> None:
    a, b = two.instances
    api = Api(a.base_url)
    try:
        room, (alice, bob) = await room_with(api, 2)
        rid = room["id"]
        alice_a = await Client(alice, "alice@A").connect(a)
        await alice_a.join(rid)
        bob_b = await Client(bob, "bob@B").connect(b)
        reply = await bob_b.join(rid)
        assert reply["data"]["online_user_ids"] == sorted([alice.id, bob.id])
        await alice_a.wait(lambda: presence(alice_a, bob.id) == [True], 30, "bob online")
        # A fresh join on A lists bob, who is only on B.
        again = await alice_a.join(rid, after_seq=reply["data"]["seq"])
        assert bob.id in again["data"]["online_user_ids"]

        # bob moves to A within the grace period: no offline-then-online anywhere.
        await bob_b.disconnect()
        bob_a = await Client(bob, "bob@A").connect(a)
        await bob_a.join(rid, after_seq=reply["data"]["seq"])
        await bob_a.disconnect()
        bob_b = await Client(bob, "bob@B").connect(b)
        await bob_b.join(rid, after_seq=reply["data"]["seq"])
        started = asyncio.get_running_loop().time()
        await asyncio.to_thread(b.kill)
        await alice_a.wait(lambda: presence(alice_a, bob.id)[-1:] == [False], 30, "bob offline")
        took = asyncio.get_running_loop().time() - started
        assert took <= TTL_S + 2.5, f"offline after {took:.1f}s, bound {TTL_S}s (+ the refresh)"
        assert presence(alice_a, bob.id) == [True, False], "a flicker or a repeat"
        await alice_a.disconnect()
    finally:
        await api.aclose()
