"""Several real instances behave as one service: PostgreSQL, a real broker, real sockets.

Every test counts what each client was shown against what the database holds: every
stored message, once, in seq order, on every client of every instance.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support.client import Api
from tests.support.cluster import (
    Client,
    Cluster,
    everyone_saw_everything,
    joined_clients,
    room_with,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]


@pytest.fixture
async def api(three: Cluster) -> AsyncIterator[Api]:
    client = Api(three.instances[0].base_url)
    yield client
    await client.aclose()


async def test_every_client_of_every_instance_sees_every_message_once_in_order(
    three: Cluster, api: Api
) -> None:
    room, accounts = await room_with(api, 6)
    clients = await joined_clients(three.instances, room["id"], accounts)

    # Every client sends at once, pipelined: 6 x 40 messages from three instances.
    per_client = 40
    sent: dict[Client, list[str]] = {client: [] for client in clients}
    for client in clients:
        for n in range(per_client):
            request_id = await client.send(
                "send_room_chat_message",
                {"room_id": room["id"], "message_text": f"{client.name}-{n}"},
            )
            sent[client].append(request_id)
    for client in clients:
        await client.wait(
            lambda c=client: all(c.reply(r) for r in sent[c]),  # type: ignore[misc]
            30,
            "every send answered",
        )
        assert all(client.reply(r)["status"] == "success" for r in sent[client])  # type: ignore[index]
    truth = await everyone_saw_everything(api, accounts[0], room["id"], clients)
    assert len(truth) == per_client * len(clients)
    for client in clients:
        own = [
            m["message_text"]
            for m in client.seen(room["id"])
            if m["user"]["id"] == client.account.id
        ]
        assert own == [f"{client.name}-{n}" for n in range(per_client)]  # a sender's own order
    for client in clients:
        await client.disconnect()


async def test_typing_reaches_other_instances_and_is_not_stored(three: Cluster, api: Api) -> None:
    room, accounts = await room_with(api, 3)
    clients = await joined_clients(three.instances, room["id"], accounts)  # one per instance
    typist = clients[0]
    await typist.send("typing_indicator", {"room_id": room["id"], "is_typing": True})
    expected = {"room_id": room["id"], "user_id": typist.account.id, "is_typing": True}
    for other in clients[1:]:
        await other.wait(lambda o=other: bool(o.typing(room["id"])), 10, "typing")  # type: ignore[misc]
        assert other.typing(room["id"]) == [expected]
    # The typist is not told about itself; a message after it proves nothing else came.
    await clients[1].say(room["id"], "after typing")
    await everyone_saw_everything(api, accounts[0], room["id"], clients)
    assert typist.typing(room["id"]) == []
    assert [c.typing(room["id"]) for c in clients[1:]] == [[expected], [expected]]
    for client in clients:
        await client.disconnect()


async def test_resending_a_client_msg_id_to_another_instance_returns_the_original(
    three: Cluster, api: Api
) -> None:
    room, (alice, bob) = await room_with(api, 2)
    first = await Client(alice, "alice@0").connect(three.instances[0])
    watcher = await Client(bob, "bob@2").connect(three.instances[2])
    await first.join(room["id"])
    await watcher.join(room["id"])
    original = await first.say(room["id"], "only once", client_msg_id="m-1")

    # The connection drops; the client resends to another instance.
    await first.disconnect()
    again = await Client(alice, "alice@1").connect(three.instances[1])
    await again.join(room["id"], after_seq=0)
    assert await again.say(room["id"], "only once", client_msg_id="m-1") == original
    conflict = await again.request(
        "send_room_chat_message",
        {"room_id": room["id"], "message_text": "other text", "client_msg_id": "m-1"},
    )
    assert conflict["status"] == "error" and conflict["error"]["code"] == "conflict"

    # The same id sent to two instances at once: one message.
    racers = [await Client(alice, f"alice-race@{n}").connect(three.instances[n]) for n in (0, 2)]
    replies = await asyncio.gather(
        *(r.say(room["id"], "raced", client_msg_id="m-2") for r in racers)
    )
    assert replies[0] == replies[1]

    await watcher.say(room["id"], "last")
    truth = await everyone_saw_everything(api, alice, room["id"], [watcher, again])
    assert [m["message_text"] for m in truth] == ["only once", "raced", "last"]
    for client in (again, watcher, *racers):
        await client.disconnect()
