"""Idle webhook endpoints cost chat nothing: hundreds of endpoints in quiet workspaces
leave send latency where it was, and the dispatcher does no work for them when other
workspaces chat (issue 20, item 2). Real servers, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator

import pytest

from tests.support.client import Api, Ws
from tests.support.metrics import Samples, moved, scrape, value
from tests.support.server import ServerProcess, module_server

pytestmark = pytest.mark.integration

OWNERS, WORKSPACES_EACH, ENDPOINTS_EACH = 3, 10, 10
IDLE = OWNERS * WORKSPACES_EACH * ENDPOINTS_EACH
SENDS = 40
# Generous on purpose: the machine is shared, so only a slowdown a user would notice
# fails (the issue measured p50 16 ms -> 1.5 s with this many endpoints).
RATIO, SLACK_S = 3.0, 0.05


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    settings = {"webhook_allowed_networks": "127.0.0.0/8"}
    with module_server(backend, tmp_path_factory, "webhook-load", **settings) as process:
        yield process


async def send_ack_p50(ws: Ws, room_id: int, label: str) -> float:
    """The median time from sending a message to its acknowledgement, in seconds."""
    took = []
    for n in range(SENDS):
        started = time.perf_counter()
        await ws.say(room_id, f"{label} {n}")
        took.append(time.perf_counter() - started)
    return statistics.median(took)


async def idle_endpoints(api: Api) -> None:
    """IDLE endpoints in workspaces where nothing happens (nobody listens at their URL:
    an endpoint that were ever called would fail, and that is not what this measures)."""
    for _ in range(OWNERS):
        owner = await api.register()
        for _ in range(WORKSPACES_EACH):
            workspace = await api.workspace(owner)
            await api.room(owner, workspace["id"])
            for n in range(ENDPOINTS_EACH):
                await api.call(
                    "POST",
                    f"/api/v1/workspaces/{workspace['id']}/webhooks",
                    owner,
                    201,
                    json={
                        "url": f"http://127.0.0.1:9/idle/{n}",
                        "events": ["new_room_chat_message"],
                    },
                )


async def held(server: ServerProcess, count: int) -> Samples:
    """Once the instance delivers ``count`` endpoints: its metrics then."""
    async with asyncio.timeout(30):
        while True:
            samples = await asyncio.to_thread(scrape, server)
            if value(samples, "roomchat_webhook_endpoints") >= count:
                return samples
            await asyncio.sleep(0.1)  # polling a metric: there is no event to wait on


async def test_idle_endpoints_do_not_slow_chat(server: ServerProcess, api: Api) -> None:
    owner = await api.register()
    workspace = await api.workspace(owner)
    room = await api.room(owner, workspace["id"])
    ws = await Ws.connect(server.ws_url, owner)
    try:
        await ws.join(room["id"])
        await send_ack_p50(ws, room["id"], "warm-up")
        without = await send_ack_p50(ws, room["id"], "without")

        await idle_endpoints(api)
        before = await held(server, IDLE)
        with_idle = await send_ack_p50(ws, room["id"], "with idle endpoints")
        after = await asyncio.to_thread(scrape, server)
    finally:
        await ws.close()

    print(f"send-ack p50: {without * 1000:.1f} ms alone, {with_idle * 1000:.1f} ms with {IDLE}")
    assert with_idle <= without * RATIO + SLACK_S, (without, with_idle)
    # Structurally: chat in a workspace without endpoints gives no endpoint any work,
    # and the dispatcher's database work does not grow with the endpoints it holds.
    for name in ("roomchat_webhook_wakeups_total", "roomchat_webhook_queries_total"):
        assert (name, ()) in after, f"{name} is not on /metrics"
    assert moved(before, after, "roomchat_webhook_wakeups_total") == 0
    assert moved(before, after, "roomchat_webhook_queries_total") <= 10
    assert value(after, "roomchat_webhook_endpoints") == IDLE
