"""A clean SIGTERM with the broker gone: every shutdown step runs, in bounded time, and
nothing in the log looks like a failure."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from roomchat.bus.kafka import KafkaBus, KafkaConfig
from roomchat.domain.events import typing_signal
from tests.support.client import Api, Ws
from tests.support.cluster import TEST_SETTINGS, ready, until, until_ready
from tests.support.kafka import Broker
from tests.support.server import ServerProcess, running_server

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

# Each shutdown step is bounded (SHUTDOWN_STEP_TIMEOUT_S in instance.py), and the broker
# clients' own stops give up after a few seconds: well inside this.
EXIT_WITHIN_S = 30.0
FAILURE_SIGNS = (
    "Traceback",
    "Application shutdown failed",
    "Unclosed AIOKafkaProducer",
    "Unclosed AIOKafkaConsumer",
    "Future exception was never retrieved",
    "Task exception was never retrieved",
    "Task was destroyed but it is pending",
)


async def bus_down(server: ServerProcess) -> bool:
    status, report = await ready(server)
    return status == 503 and report["checks"]["bus"]["ok"] is False


@pytest.fixture
def on_broker(broker: Broker, backend: str, tmp_path: Path) -> Iterator[ServerProcess]:
    broker.require_restartable()  # the test stops it
    settings = {
        **TEST_SETTINGS,
        "kafka_bootstrap_servers": broker.bootstrap,
        "kafka_topic": broker.topic(),
        "presence_refresh_s": "0.2",  # presence signals in flight when the broker goes
    }
    with running_server(backend, tmp_path, **settings) as process:
        yield process


@pytest.fixture
async def api(on_broker: ServerProcess) -> AsyncIterator[Api]:
    client = Api(on_broker.base_url)
    yield client
    await client.aclose()


async def test_sigterm_with_the_broker_gone_exits_cleanly_after_every_step(
    on_broker: ServerProcess, broker: Broker, api: Api
) -> None:
    server = on_broker
    await until_ready(server)  # the bus connected and hearing itself
    owner = await api.register("owner")
    room = await api.room(owner, (await api.workspace(owner))["id"])
    ws = await Ws.connect(server.ws_url, owner)
    await ws.join(room["id"])
    await ws.say(room["id"], "before the broker goes")

    broker.stop()
    # Typing signals while the instance still believes the broker is there: their
    # sends are still in flight (unanswered) when it stops.
    for _ in range(10):
        await ws.send("typing_indicator", {"room_id": room["id"], "is_typing": True})
    await ws.request("ping", {})
    await until(lambda: bus_down(server), 20, "the instance to see the broker gone")

    process = server.process
    assert process is not None
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.to_thread(process.wait, EXIT_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {EXIT_WITHIN_S}s after SIGTERM:\n{server.logs()[-6000:]}")
    took = time.monotonic() - started
    await ws.close()

    logs = server.logs()
    # uvicorn raises the signal again once it is done: -SIGTERM is its clean exit.
    assert code in (0, -signal.SIGTERM), f"exit code {code} after {took:.1f}s:\n{logs[-6000:]}"
    for sign in FAILURE_SIGNS:
        assert sign not in logs, f"{sign!r} in the log after SIGTERM:\n{logs[-6000:]}"
    # Said once every step (the store's close the last) has finished.
    assert "roomchat stopped cleanly" in logs, logs[-6000:]


async def test_typing_sent_as_the_broker_goes_leaves_no_unretrieved_failure(
    broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    broker.require_restartable()  # the test stops it
    # aiokafka's error records would keep its failed sends (and their futures) alive
    # through their tracebacks until the test ends: not what the test is about.
    caplog.set_level(logging.CRITICAL, logger="aiokafka")
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    bus = KafkaBus(
        KafkaConfig(
            bootstrap_servers=broker.bootstrap,
            topic=broker.topic(),
            origin="shutdown-test",
            partitions=1,
            produce_timeout_s=1.0,
            heartbeat_interval_s=0.3,
            retry_interval_s=0.2,
        )
    )
    await bus.start(lambda _event: None, lambda _signal: None)
    assert bus.is_up()

    broker.stop()
    for user_id in range(5):  # still "up": each goes to the producer, then fails there
        bus.signal(typing_signal(1, user_id, True, "shutdown-test"))
    await until(lambda: not bus.is_up(), 20, "the bus to see the broker gone")
    await bus.close()
    gc.collect()  # what asyncio would say of a failure nobody took, it says now

    assert [c.get("message") for c in unhandled] == []
