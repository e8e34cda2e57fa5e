"""Faults in a real cluster: an instance killed, the broker stopped and restarted, the
broker missing at start-up. Nothing stored is lost, nothing is shown twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import Api
from tests.support.cluster import (
    Client,
    Cluster,
    cluster,
    everyone_saw_everything,
    joined_clients,
    outbox_rows,
    ready,
    room_with,
    stream,
    until,
    until_ready,
)
from tests.support.kafka import EXTERNAL_BOOTSTRAP, Broker

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]


async def bus_down(instance: Any) -> bool:
    status, report = await ready(instance)
    return status == 503 and report["checks"]["bus"]["ok"] is False


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    broker.require_restartable()
    with cluster(broker, tmp_path, 2) as running:
        yield running


@pytest.fixture
def late_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker's port, nothing listening yet: the test starts it."""
    if EXTERNAL_BOOTSTRAP:
        pytest.skip("needs a broker the test starts late; ROOMCHAT_TEST_KAFKA_BOOTSTRAP is set")
    late = Broker(tmp_path)
    try:
        yield late
    finally:
        late.stop()


@pytest.fixture
def two_without_broker(late_broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(late_broker, tmp_path, 2) as running:
        yield running


async def test_instance_killed_mid_stream_its_clients_catch_up_elsewhere(
    three: Cluster,
) -> None:
    a, b, c = three.instances
    api = Api(b.base_url)
    room, accounts = await room_with(api, 6)
    clients = await joined_clients(three.instances, room["id"], accounts)
    texts = {client: [f"{client.name}-{n}" for n in range(40)] for client in clients}
    streams = [asyncio.create_task(stream(cl, room["id"], texts[cl])) for cl in clients]

    # Mid-stream: once the room holds some messages, SIGKILL instance a.
    watcher = clients[1]
    await watcher.wait(lambda: len(watcher.seen(room["id"])) >= 30, 30, "30 messages")
    await asyncio.to_thread(a.kill)
    left = dict(zip(clients, await asyncio.gather(*streams), strict=True))
    on_a = [cl for cl in clients if cl.instance is a]
    assert all(not cl.connected for cl in on_a)
    assert any(left[cl] for cl in on_a), "the kill came after the stream: nothing proved"

    # a's clients reconnect elsewhere, catch up from the last seq they saw, resend.
    for n, client in enumerate(on_a):
        await client.connect((b, c)[n % 2])
        reply = await client.join(room["id"], after_seq=client.last_seq(room["id"]))
        assert reply["data"]["has_more"] is False
    assert not any(await asyncio.gather(*(stream(cl, room["id"], left[cl]) for cl in on_a)))

    truth = await everyone_saw_everything(api, accounts[0], room["id"], clients)
    assert sorted(m["message_text"] for m in truth) == sorted(
        t for ts in texts.values() for t in ts
    )
    # What a had stored but not published, the survivors published for it.
    await until(lambda: _no_outbox(three.database_url), 20, "the outbox emptied")
    for client in clients:
        await client.disconnect()
    await api.aclose()


async def _no_outbox(database_url: str) -> bool:
    return await outbox_rows(database_url) == 0


async def test_broker_restarted_mid_stream_every_message_reaches_every_client(
    two: Cluster,
) -> None:
    kafka = two.broker
    a, b = two.instances
    api = Api(a.base_url)
    room, accounts = await room_with(api, 4)
    clients = await joined_clients(two.instances, room["id"], accounts)

    async def round_(tag: str, count: int = 15) -> None:
        texts = [[f"{cl.name}-{tag}-{n}" for n in range(count)] for cl in clients]
        left = await asyncio.gather(
            *(stream(cl, room["id"], t) for cl, t in zip(clients, texts, strict=True))
        )
        assert not any(left), "a send failed"

    await round_("before")
    # Stopped while every client is sending: the sends still succeed.
    sending = asyncio.create_task(round_("during"))
    await asyncio.to_thread(kafka.stop)
    await sending
    for instance in (a, b):
        await until(lambda i=instance: bus_down(i), 20, "/readyz reports the bus down")  # type: ignore[misc]
    _, report = await ready(a)
    assert report["checks"]["database"]["ok"] is True
    await round_("down")
    _, report = await ready(a)
    assert report["checks"]["bus"]["outbox_unpublished"] > 0  # what waits for the broker

    await asyncio.to_thread(kafka.start)
    for instance in (a, b):
        await until_ready(instance, 30)
    await round_("after")
    truth = await everyone_saw_everything(api, accounts[0], room["id"], clients)
    assert len(truth) == 4 * 15 * 4
    await until(lambda: _no_outbox(two.database_url), 20, "the outbox emptied")
    for client in clients:
        await client.disconnect()
    await api.aclose()


async def test_broker_missing_at_start_instances_serve_and_publish_once_it_is_there(
    two_without_broker: Cluster,
) -> None:
    two = two_without_broker
    late = two.broker
    a, b = two.instances
    for instance in (a, b):
        status, report = await ready(instance)
        assert status == 503
        assert report["checks"]["bus"]["connected"] is False
        assert "unreachable" in instance.logs()
    api = Api(a.base_url)
    room, accounts = await room_with(api, 2)
    on_a = await Client(accounts[0], "on-a").connect(a)
    on_b = await Client(accounts[1], "on-b").connect(b)
    for client in (on_a, on_b):
        await client.join(room["id"])
    for n in range(5):
        await on_a.say(room["id"], f"while alone {n}")  # saved and shown locally
    await on_a.wait(lambda: len(on_a.seen(room["id"])) >= 5, 10, "shown locally")
    assert [m["message_text"] for m in on_a.seen(room["id"])] == [
        f"while alone {n}" for n in range(5)
    ]
    _, report = await ready(a)
    assert report["checks"]["bus"]["outbox_unpublished"] == 5  # waiting in the database

    await asyncio.to_thread(late.start)
    for instance in (a, b):
        await until_ready(instance, 30)
    # b's client gets a's messages without sending anything itself.
    truth = await everyone_saw_everything(api, accounts[0], room["id"], [on_a, on_b])
    assert len(truth) == 5
    await on_b.say(room["id"], "hello a")
    await everyone_saw_everything(api, accounts[0], room["id"], [on_a, on_b])
    for client in (on_a, on_b):
        await client.disconnect()
    await api.aclose()
