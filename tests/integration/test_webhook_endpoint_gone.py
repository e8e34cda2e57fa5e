"""An endpoint deleted while its delivery is held open: nothing more goes to it, and the
instance delivering it says nothing alarming.

An instance learns that another deleted one of its endpoints (or that an ownership
transfer deleted them, on any instance) only at its next lease renewal. The request in
flight then came back and its attempt was recorded against a row that was gone: on
PostgreSQL a foreign key violation, logged as an ERROR with its traceback; on SQLite
(no foreign keys enforced) an orphan attempt, which the next endpoint made there (it
takes the freed id) listed as its own. Now recording it finds no endpoint and the
dispatcher drops it. Two real instances on one database, a real receiver that holds
the request open; SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.support.client import Account, Api
from tests.support.cluster import until
from tests.support.databases import database_url
from tests.support.metrics import scrape, value
from tests.support.receiver import Receiver, receiving
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

WEBHOOKS = {
    "webhook_allowed_networks": "127.0.0.0/8",
    "webhook_backoff_initial_s": "0.2",
    "webhook_backoff_max_s": "0.5",
    "webhook_poll_interval_s": "0.5",
    # Renewed every 10 s: the instance delivering does not learn of the deletion from
    # a renewal while the test runs, only from its own delivery.
    "webhook_lease_s": "30",
    "webhook_timeout_s": "10",
}
MESSAGES = ["new_room_chat_message"]
PENDING = 3  # messages waiting behind the held one: what a pass that went on would send


@pytest.fixture(scope="module")
def pair(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two instances on one database (no bus needed: the dispatcher polls for events)."""
    directory = tmp_path_factory.mktemp(f"endpoint-gone-{backend}")
    with database_url(backend, directory) as url:
        first = ServerProcess(url, directory / "a", **WEBHOOKS)
        second = ServerProcess(url, directory / "b", **WEBHOOKS)
        try:
            first.start()
            second.start()  # after the first, which migrated
            yield first, second
        finally:
            second.stop()
            first.stop()


@pytest.fixture
async def api(pair: tuple[ServerProcess, ServerProcess]) -> AsyncIterator[Api]:
    client = Api(pair[0].base_url)
    yield client
    await client.aclose()


def hooks(workspace_id: int, rest: str = "") -> str:
    return f"/api/v1/workspaces/{workspace_id}/webhooks{rest}"


async def endpoint(api: Api, owner: Account, workspace_id: int, receiver: Receiver) -> Any:
    body = {"url": receiver.url(), "events": MESSAGES}
    return await api.call("POST", hooks(workspace_id), owner, 201, json=body)


async def post(api: Api, caller: Account, room_id: int, text: str) -> None:
    path = f"/api/v1/room-chats/{room_id}/messages"
    await api.call("POST", path, caller, 201, json={"message_text": text})


def metric(instance: ServerProcess, name: str) -> float:
    return value(scrape(instance), name)


async def held_open(
    api: Api, owner: Account, room_id: int, receiver: Receiver, pair: tuple[ServerProcess, ...]
) -> tuple[ServerProcess, float]:
    """Messages for the endpoint, the first of them held open by the receiver: the
    instance delivering it, and how many endpoints it delivers."""
    receiver.answer = "hang"
    for n in range(1 + PENDING):
        await post(api, owner, room_id, f"m{n}")
    await receiver.wait_for(lambda r: r.hanging == 1)
    (delivering,) = [i for i in pair if metric(i, "roomchat_webhook_requests_in_flight") == 1]
    return delivering, metric(delivering, "roomchat_webhook_endpoints")


async def released(receiver: Receiver, delivering: ServerProcess, endpoints: float) -> None:
    """Let the held request finish; return once the instance stopped delivering the
    endpoint (it had ``endpoints``, that one included)."""
    receiver.answer = "ok"  # from now on, whatever it is sent, it takes
    receiver.release()
    await until(
        lambda: metric(delivering, "roomchat_webhook_endpoints") == endpoints - 1,
        20,
        "the instance stops delivering the deleted endpoint",
    )


def alarms(log: str) -> list[str]:
    return [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]


async def nothing_recorded_for_the_next_endpoint(
    api: Api, owner: Account, workspace_id: int, receiver: Receiver, gone_id: int
) -> None:
    """The next endpoint made has no attempt of the deleted one (on SQLite it takes its
    id: an attempt recorded for the deleted one would be listed as its own)."""
    made = await endpoint(api, owner, workspace_id, receiver)
    listed = await api.call("GET", hooks(workspace_id, f"/{made['id']}/deliveries"), owner)
    assert listed == [], f"endpoint {made['id']} (the deleted one was {gone_id}): {listed}"


async def test_deleted_on_another_instance_while_held_it_gets_nothing_more(
    api: Api, pair: tuple[ServerProcess, ServerProcess]
) -> None:
    logged = [len(i.logs()) for i in pair]
    owner = await api.register("owner")
    workspace = await api.workspace(owner)
    room = await api.room(owner, workspace["id"])
    async with receiving() as receiver, receiving() as after:
        made = await endpoint(api, owner, workspace["id"], receiver)
        delivering, endpoints = await held_open(api, owner, room["id"], receiver, pair)
        other = pair[1] if delivering is pair[0] else pair[0]

        other_api = Api(other.base_url)
        try:
            await other_api.call("DELETE", hooks(workspace["id"], f"/{made['id']}"), owner)
        finally:
            await other_api.aclose()
        await released(receiver, delivering, endpoints)

        assert len(receiver.requests) == 1, [r.event["id"] for r in receiver.requests]
        for instance, start in zip(pair, logged, strict=True):
            assert alarms(instance.logs()[start:]) == [], instance.logs()[start:]
        await nothing_recorded_for_the_next_endpoint(api, owner, workspace["id"], after, made["id"])


async def test_removed_by_a_transfer_while_held_it_gets_nothing_more(
    api: Api, pair: tuple[ServerProcess, ServerProcess]
) -> None:
    logged = [len(i.logs()) for i in pair]
    alice, bob = await api.register("alice"), await api.register("bob")
    workspace = await api.workspace(alice, bob)
    wid = workspace["id"]
    room = await api.room(alice, wid)
    async with receiving() as receiver, receiving() as after:
        made = await endpoint(api, alice, wid, receiver)
        delivering, endpoints = await held_open(api, alice, room["id"], receiver, pair)

        # On the instance delivering it: a transfer tells no dispatcher either.
        here = Api(delivering.base_url)
        try:
            moved = await here.call(
                "POST", f"/api/v1/workspaces/{wid}/owner", alice, json={"user_id": bob.id}
            )
        finally:
            await here.aclose()
        assert moved["owner_id"] == bob.id
        await released(receiver, delivering, endpoints)

        assert len(receiver.requests) == 1, [r.event["id"] for r in receiver.requests]
        for instance, start in zip(pair, logged, strict=True):
            assert alarms(instance.logs()[start:]) == [], instance.logs()[start:]
        await nothing_recorded_for_the_next_endpoint(api, bob, wid, after, made["id"])
        # The rooms go on, and the new owner's endpoint hears them.
        await post(api, alice, room["id"], "after the transfer")
        await after.wait_for(
            lambda r: any(
                e["data"]["message_text"] == "after the transfer" for e in r.accepted_events()
            )
        )
