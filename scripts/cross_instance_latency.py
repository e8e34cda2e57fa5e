"""Measure cross-instance delivery: send on instance A, time until a client of B has it.

Starts tansu, a fresh PostgreSQL database and two instances (the test support code),
then sends N messages one after another from a client of A and reports p50/p99 of
the time until a client of B received each broadcast (and, for comparison, a second
client of A). Usage: .venv/bin/python scripts/cross_instance_latency.py [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.client import Api
from tests.support.cluster import Client, cluster
from tests.support.kafka import Broker


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(instances: list, count: int) -> None:  # type: ignore[type-arg]
    a, b = instances
    api = Api(a.base_url)
    accounts = [await api.register(f"u{n}") for n in range(3)]
    ws = await api.workspace(accounts[0], *accounts[1:])
    room = await api.room(accounts[0], ws["id"])
    sender = await Client(accounts[0], "sender@a").connect(a)
    local = await Client(accounts[1], "peer@a").connect(a)
    remote = await Client(accounts[2], "peer@b").connect(b)
    for client in (sender, local, remote):
        await client.join(room["id"])
    for n in range(20):  # warm-up
        await sender.say(room["id"], f"warm {n}")
    await remote.wait(lambda: len(remote.seen(room["id"])) >= 20, 10, "warm-up")
    cross: list[float] = []
    same: list[float] = []
    for n in range(count):
        have = len(remote.seen(room["id"]))
        start = time.perf_counter()
        await sender.send(
            "send_room_chat_message", {"room_id": room["id"], "message_text": f"m{n}"}
        )
        await local.wait(lambda h=have: len(local.seen(room["id"])) > h, 10, "local")
        same.append(time.perf_counter() - start)
        await remote.wait(lambda h=have: len(remote.seen(room["id"])) > h, 10, "remote")
        cross.append(time.perf_counter() - start)
    for name, values in (("same instance", same), ("cross instance", cross)):
        ms = [v * 1000 for v in values]
        print(
            f"{name:15s} n={len(ms)} p50={pct(ms, 0.5):.1f}ms p99={pct(ms, 0.99):.1f}ms "
            f"mean={statistics.mean(ms):.1f}ms max={max(ms):.1f}ms"
        )
    for client in (sender, local, remote):
        await client.disconnect()
    await api.aclose()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp)).start()
        try:
            with cluster(broker, Path(tmp), 2) as running:
                asyncio.run(measure(running.instances, count))
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
