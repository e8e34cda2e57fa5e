"""Several `roomchat serve` instances sharing PostgreSQL and a broker, and clients that
record every frame in arrival order, across reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import websockets

from roomchat.client import Connection
from tests.support.client import Account, Api, Frame, RoomActions, caught_up_messages, history
from tests.support.contract import FrameAudit
from tests.support.databases import connect, fresh_postgres_database
from tests.support.kafka import Broker
from tests.support.server import ServerProcess

# Fast failure detection, so fault tests take seconds, not minutes.
TEST_SETTINGS = {
    "kafka_partitions": "3",
    "kafka_heartbeat_interval_s": "0.5",
    "kafka_deaf_after_s": "3",
    "kafka_produce_timeout_s": "2",
    "kafka_retry_interval_s": "0.3",
    "outbox_orphan_after_s": "2",
    "send_rate_per_second": "1000",
    "send_burst": "1000",
    "log_level": "info",
}


class Cluster:
    def __init__(
        self, broker: Broker, database_url: str, directory: Path, size: int, **settings: str
    ) -> None:
        """``settings``: more ROOMCHAT_* settings for every instance, over TEST_SETTINGS."""
        self.broker = broker
        self.database_url = database_url
        topic = broker.topic()
        self.instances = [
            ServerProcess(
                database_url,
                directory / f"instance-{n}",
                kafka_bootstrap_servers=broker.bootstrap,
                kafka_topic=topic,
                instance_id=f"i{n}-{uuid.uuid4().hex[:6]}",
                **{**TEST_SETTINGS, **settings},
            )
            for n in range(size)
        ]

    def start(self) -> Cluster:
        for instance in self.instances:
            instance.start()
        return self

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {i.base_url}\n{i.logs()[-4000:]}" for i in self.instances)


@contextmanager
def cluster(broker: Broker, directory: Path, size: int, **settings: str) -> Iterator[Cluster]:
    with fresh_postgres_database() as url:
        running = Cluster(broker, url, directory, size, **settings)
        try:
            yield running.start()
        finally:
            running.stop()


async def ready(instance: ServerProcess) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{instance.base_url}/readyz")
    return response.status_code, response.json()


async def until(condition: Callable[[], Any], timeout: float, what: str) -> None:
    """Poll an outside condition (a process, a row count) until it holds, or fail."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.1)  # polling something that sends no event


async def until_ready(instance: ServerProcess, timeout: float = 30.0) -> dict[str, Any]:
    report: dict[str, Any] = {}

    async def check() -> bool:
        nonlocal report
        status, report = await ready(instance)
        return status == 200

    await until(check, timeout, f"{instance.base_url} ready")
    return report


async def stored(api: Api, account: Account, room_id: int) -> list[dict[str, Any]]:
    """Every message of the room, oldest first, read page by page over REST."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await history(api, account, room_id, after_seq=after, limit=100)
        found.extend(page["messages"])
        if not page["has_more"]:
            return found
        after = found[-1]["seq"]


class Client(RoomActions):
    """One user's view of rooms: every frame of every connection it had, in arrival order.

    ``seen(room)`` is what the user was shown: the messages of each join reply and every
    broadcast, in the order they came, across reconnects.
    """

    def __init__(self, account: Account, name: str) -> None:
        self.account = account
        self.name = name
        self.frames: list[Frame] = []
        self.conn: Connection | None = None  # roomchat.client's connection layer
        self.instance: ServerProcess | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        # Every frame checked against the AsyncAPI document (tests/support/contract.py).
        self.audit = FrameAudit(f"cluster:{name}")

    async def connect(self, instance: ServerProcess) -> Client:
        await self.disconnect()
        self.instance = instance
        self.conn = await Connection.open(
            instance.ws_url, token=self.account.token, token_in_query=True
        )
        self._reader = asyncio.create_task(self._read(self.conn))
        return self

    async def _read(self, conn: Connection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                frame = await conn.receive()
                self.audit.received(frame)
                self.frames.append(frame)
                self._changed.set()
        self._changed.set()

    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def disconnect(self) -> None:
        if self.conn is not None:
            await self.conn.close()
        if self._reader is not None:
            await self._reader
        self.conn = self._reader = None

    async def wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"{self.name}: not within {timeout}s: {what}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def send(self, action: str, payload: dict[str, Any]) -> str:
        request_id = uuid.uuid4().hex
        assert self.conn is not None
        self.audit.sent({"action": action, "payload": payload, "request_id": request_id})
        await self.conn.send(action, payload, request_id)
        return request_id

    def reply(self, request_id: str) -> Frame | None:
        return next((f for f in self.frames if f.get("request_id") == request_id), None)

    async def request(self, action: str, payload: dict[str, Any], timeout: float = 10.0) -> Frame:
        request_id = await self.send(action, payload)
        await self.wait(lambda: self.reply(request_id) is not None, timeout, f"{action} reply")
        reply = self.reply(request_id)
        assert reply is not None
        return reply

    def seen(self, room_id: int) -> list[dict[str, Any]]:
        shown: list[dict[str, Any]] = []
        for frame in self.frames:
            action, data = frame.get("action"), frame.get("data")
            if frame.get("status") != "success" or not isinstance(data, dict):
                continue
            if action == "join_room_chat" and data["room"]["id"] == room_id:
                shown.extend(caught_up_messages(data))
            elif action == "new_room_chat_message" and data["room_id"] == room_id:
                shown.append(data)
        return shown

    def seqs(self, room_id: int) -> list[int]:
        return [m["seq"] for m in self.seen(room_id)]

    def last_seq(self, room_id: int) -> int:
        return max(self.seqs(room_id), default=0)

    def typing(self, room_id: int) -> list[dict[str, Any]]:
        """The typing broadcasts received (not the replies to this client's own typing
        frames, which carry its request_id)."""
        return [
            f["data"]
            for f in self.frames
            if f.get("action") == "typing_indicator"
            and f.get("status") == "success"
            and "request_id" not in f
            and f["data"]["room_id"] == room_id
        ]


async def outbox_rows(database_url: str) -> int:
    """Outbox rows not published yet, every instance's."""
    conn = await connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await conn.close()


async def stream(
    client: Client, room_id: int, texts: list[str], timeout: float = 15.0
) -> list[str]:
    """Send one after another (each with a client_msg_id); return those not answered.

    The first unanswered one may or may not be stored: resending it (same
    client_msg_id) on another connection is safe.
    """
    for index, text in enumerate(texts):
        if not client.connected:
            return texts[index:]
        try:
            request_id = await client.send(
                "send_room_chat_message",
                {"room_id": room_id, "message_text": text, "client_msg_id": text},
            )
        except websockets.ConnectionClosed:
            return texts[index:]
        await client.wait(
            lambda r=request_id: client.reply(r) is not None or not client.connected,  # type: ignore[misc]
            timeout,
            f"reply to {text}",
        )
        reply = client.reply(request_id)
        if reply is None:
            return texts[index:]
        assert reply["status"] == "success", reply
    return []


async def room_with(api: Api, count: int) -> tuple[dict[str, Any], list[Account]]:
    """A room in a new workspace, and ``count`` members (the first created both)."""
    accounts = [await api.register(f"u{n}") for n in range(count)]
    ws = await api.workspace(accounts[0], *accounts[1:])
    return await api.room(accounts[0], ws["id"]), accounts


async def joined_clients(
    instances: list[ServerProcess], room_id: int, accounts: list[Account]
) -> list[Client]:
    """A client per account, named c0, c1, ..., connected to the instances in turn (c0 to
    the first, c1 to the second, ...), then each joined to the room."""
    clients = [
        await Client(account, f"c{n}").connect(instances[n % len(instances)])
        for n, account in enumerate(accounts)
    ]
    for client in clients:
        await client.join(room_id)
    return clients


async def everyone_saw_everything(
    api: Api, account: Account, room_id: int, clients: list[Client], timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Wait until each client was shown as many messages as are stored, then check that
    each was shown exactly the stored ones: every one once, in seq order."""
    truth = await stored(api, account, room_id)
    seqs = [m["seq"] for m in truth]
    # Increasing, not gapless: membership and room events take seqs between messages.
    assert seqs == sorted(set(seqs))
    for client in clients:
        await client.wait(
            lambda c=client: len(c.seen(room_id)) >= len(truth),  # type: ignore[misc]
            timeout,
            f"{len(truth)} messages",
        )
    # History shows each message as it is now (edited_at, deleted_at, reactions); a
    # new_room_chat_message broadcast, the guide's shape: compare what both carry.
    for client in clients:
        assert _as_sent(client.seen(room_id)) == _as_sent(truth), client.name
    return truth


def _as_sent(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    state = ("edited_at", "deleted_at", "reactions")
    return [{k: v for k, v in m.items() if k not in state} for m in messages]
