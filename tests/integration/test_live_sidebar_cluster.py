"""The live sidebar and workspace administration across two instances sharing a broker
and PostgreSQL: what is done through instance A reaches the sockets on instance B at
once (a new room, an invitation, a profile change), and a member removed through A stops
receiving the workspace on B."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import Api
from tests.support.cluster import Client, Cluster, cluster
from tests.support.kafka import Broker

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(broker, tmp_path, 2) as running:
        yield running


def broadcasts(client: Client, action: str, **fields: Any) -> list[dict[str, Any]]:
    return [
        f["data"]
        for f in client.frames
        if f.get("action") == action
        and "request_id" not in f
        and all(f["data"].get(k) == v for k, v in fields.items())
    ]


async def test_what_a_does_reaches_b_and_a_removal_on_a_stops_b(two: Cluster) -> None:
    a_instance, b_instance = two.instances
    api = Api(a_instance.base_url)
    clients: list[Client] = []
    try:
        owner, alice, bob, dave = [await api.register(n) for n in ("owner", "alice", "bob", "dave")]
        ws = await api.workspace(owner, alice, bob)
        room = await api.room(owner, ws["id"])
        alice_b = await Client(alice, "alice@B").connect(b_instance)
        bob_b = await Client(bob, "bob@B").connect(b_instance)
        dave_b = await Client(dave, "dave@B").connect(b_instance)
        clients += [alice_b, bob_b, dave_b]
        await bob_b.join(room["id"])
        for client in (alice_b, bob_b):
            reply = await client.request("subscribe_workspace", {"workspace_id": ws["id"]})
            assert reply["status"] == "success"

        # A room made through A: alice (joined nothing) sees it on B.
        made = await api.room(owner, ws["id"])
        await alice_b.wait(
            lambda: broadcasts(alice_b, "workspace_room_created", room_id=made["id"]), 30, "room"
        )
        # An invitation through A reaches dave's socket on B.
        await api.call(
            "POST", f"/api/v1/workspaces/{ws['id']}/members", owner, 202, json={"user_id": dave.id}
        )
        await dave_b.wait(lambda: broadcasts(dave_b, "invitation_received"), 30, "invitation")
        # A new name through A reaches the room's member on B.
        await api.call("PATCH", "/api/v1/users/me", alice, json={"display_name": "Alice B."})
        await bob_b.wait(
            lambda: broadcasts(bob_b, "user_updated", user_id=alice.id), 30, "user_updated"
        )

        # bob removed through A: on B his socket leaves the room and the workspace.
        await api.call("DELETE", f"/api/v1/workspaces/{ws['id']}/members/{bob.id}", owner)
        await bob_b.wait(
            lambda: broadcasts(bob_b, "workspace_member_left", user_id=bob.id), 30, "left"
        )
        assert broadcasts(bob_b, "room_member_left", user_id=bob.id)
        await alice_b.wait(
            lambda: broadcasts(alice_b, "workspace_member_left", user_id=bob.id), 30, "alice"
        )
        # Afterwards nothing of the workspace reaches bob on B: a message in the room, a
        # new room (alice on B sees it: it went out).
        count = len(bob_b.frames)
        said = await api.call(
            "POST",
            f"/api/v1/room-chats/{room['id']}/messages",
            owner,
            201,
            json={"message_text": "after bob"},
        )
        later = await api.room(owner, ws["id"])
        await alice_b.wait(
            lambda: broadcasts(alice_b, "workspace_room_created", room_id=later["id"]), 30, "later"
        )
        pong = await bob_b.request("ping", {})
        assert pong["action"] == "pong"
        got = [f.get("action") for f in bob_b.frames[count:] if f.get("request_id") is None]
        assert got == [], got
        assert said["seq"] > 0
    finally:
        for client in clients:
            await client.disconnect()
        await api.aclose()
