"""Webhooks on a cluster: two instances hear every event through the Kafka-protocol
broker, and each event still reaches the receiver once, from one of them; when that
instance is killed, the other takes the endpoint over and nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.cluster import Cluster, cluster, room_with, until
from tests.support.kafka import Broker
from tests.support.metrics import scrape, value
from tests.support.receiver import receiving
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]

SETTINGS = {
    "webhook_allowed_networks": "127.0.0.0/8",
    "webhook_backoff_initial_s": "0.2",
    "webhook_poll_interval_s": "0.5",
    "webhook_lease_s": "3",
}


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(broker, tmp_path, 2, **SETTINGS) as running:
        yield running


def delivered_by(instance: ServerProcess) -> float:
    return value(scrape(instance), "roomchat_webhook_deliveries_total", outcome="delivered")


async def test_each_event_is_delivered_once_for_the_cluster(two: Cluster) -> None:
    a, b = two.instances
    api_a, api_b = Api(a.base_url), Api(b.base_url)
    try:
        room, (owner, member) = await room_with(api_a, 2)
        rid = room["id"]
        await api_a.call(
            "POST", f"/api/v1/room-users/room/{rid}", owner, 201, json={"user_id": member.id}
        )
        async with receiving() as receiver:
            await api_a.call(
                "POST",
                f"/api/v1/workspaces/{room['workspace_id']}/webhooks",
                owner,
                201,
                json={"url": receiver.url(), "events": ["new_room_chat_message"]},
            )
            sent = []
            for n in range(10):  # through both instances, in turn
                api, who = (api_a, owner) if n % 2 == 0 else (api_b, member)
                sent.append(
                    await api.call(
                        "POST",
                        f"/api/v1/room-chats/{rid}/messages",
                        who,
                        201,
                        json={"message_text": f"m{n}"},
                    )
                )
            await receiver.wait_for(lambda r: len(r.accepted) >= 10)
            ids = [e["id"] for e in receiver.accepted_events()]
            assert ids == [f"evt_{rid}_{m['seq']}" for m in sent]  # once each, in seq order
            # Counted once the answer came, just after the receiver took it.
            await until(lambda: delivered_by(a) + delivered_by(b) >= 10, 10, "counted")
            counts = {i.base_url: delivered_by(i) for i in (a, b)}
            assert sorted(counts.values()) == [0.0, 10.0]  # one instance delivered them all

            # The instance delivering dies; the other takes over when its lease runs out.
            holder, other = (a, b) if counts[a.base_url] else (b, a)
            api_other = api_a if other is a else api_b
            holder.kill()
            more = [
                await api_other.call(
                    "POST",
                    f"/api/v1/room-chats/{rid}/messages",
                    owner,
                    201,
                    json={"message_text": f"after {n}"},
                )
                for n in range(3)
            ]
            await receiver.wait_for(lambda r: len(r.accepted) >= 13, timeout=30)
            ids = [e["id"] for e in receiver.accepted_events()]
            assert ids[10:] == [f"evt_{rid}_{m['seq']}" for m in more]
            await until(lambda: delivered_by(other) >= 3, 10, "counted")
            assert delivered_by(other) == 3.0
    finally:
        await api_a.aclose()
        await api_b.aclose()
