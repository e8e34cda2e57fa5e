"""The database partitioned away (a blackhole: nothing refused, nothing answered): the
instance says so within its timeouts instead of hanging, and recovers when it ends.

A real server reaches PostgreSQL through the test's TCP proxy, which partitions them
on cue. Its background loops (the token revocation poll, the hub's sweep, the webhook
lease renewal) each say once that the database is out of reach, without traceback,
and once more when it answers again. SQLite is a local file that cannot be
partitioned away; what makes it wait is another process holding its write lock, for
at most the statement timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.support.client import Account, Api, Ws, error_code, history
from tests.support.cluster import until, until_ready
from tests.support.databases import POSTGRES_URL, fresh_postgres_database
from tests.support.proxy import Proxy
from tests.support.server import ServerProcess, running_server

pytestmark = [pytest.mark.integration]

T = TypeVar("T")

STATEMENT_TIMEOUT_S = 2.0
POOL_TIMEOUT_S = 2.0
# Bounds with room for a slow machine, well short of what it was before the timeouts:
# /readyz hung 14 s and more, a request as long (asyncpg waits for ever, a pool
# checkout 30 s).
READY_WITHIN_S = 5.0  # the readiness timeout is 2 s (its default)
REQUEST_WITHIN_S = 9.0  # a connection (2 s), then a statement (2 s)
# Loops that tick at least once a second, so several times in the partition; each
# names its work in its lines (roomchat/outages.py).
LOOPS = {
    "polling token revocations": {"revocation_poll_interval_s": "0.5"},
    "sweeping joined rooms for missed events": {"sweep_interval_s": "1"},
    "webhooks: renewing leases": {"webhook_lease_s": "3"},  # renewed every 1 s
}
OUT_OF_REACH = "failed: the database is out of reach"
WORKS_AGAIN = "works again: the database was out of reach"


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    """In front of the test PostgreSQL; the test partitions it."""
    running = await Proxy.before(POSTGRES_URL).start()
    yield running
    await running.aclose()


@pytest.fixture
async def server(database: str, proxy: Proxy, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """An instance whose every database connection goes through ``proxy``."""
    process = ServerProcess(
        proxy.database_url(database),
        tmp_path,
        database_statement_timeout_s=str(STATEMENT_TIMEOUT_S),
        database_pool_timeout_s=str(POOL_TIMEOUT_S),
        log_level="info",
        **{k: v for settings in LOOPS.values() for k, v in settings.items()},
    )
    # Started and stopped off the event loop: the proxy it talks to runs on it.
    await asyncio.to_thread(process.start)
    try:
        yield process
    finally:
        proxy.heal()
        await asyncio.to_thread(process.stop)


async def timed(work: Awaitable[T]) -> tuple[T, float]:
    started = time.monotonic()
    result = await work
    return result, time.monotonic() - started


async def readyz(server: ServerProcess) -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as http:
        return await http.get(f"{server.base_url}/readyz")


async def handshake_close(url: str, account: Account) -> tuple[int, str]:
    """The code and reason a socket that is sent nothing is closed with."""
    headers = {"additional_headers": account.headers}
    async with websockets.connect(url, compression=None, **headers) as conn:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(conn.recv(), 60)
    received = closed.value.rcvd
    assert received is not None, "closed without a close frame"
    return received.code, received.reason


async def read_history(api: Api, account: Account, room_id: int) -> httpx.Response:
    path = f"/api/v1/room-chats/{room_id}/messages"
    return await api.http.get(path, headers=account.headers, timeout=60)


@pytest.mark.postgres
async def test_a_partition_answers_unavailable_in_bounded_time_and_heals(
    server: ServerProcess, proxy: Proxy, api: Api
) -> None:
    owner = await api.register("owner")
    room = await api.room(owner, (await api.workspace(owner))["id"])
    ws = await Ws.connect(server.ws_url, owner)
    await ws.join(room["id"])
    await ws.say(room["id"], "before the partition")

    proxy.partition()

    ready, took = await timed(readyz(server))
    assert ready.status_code == 503, ready.text
    assert ready.json()["checks"]["database"]["ok"] is False
    assert took < READY_WITHIN_S, f"/readyz took {took:.1f}s"

    read, took = await timed(read_history(api, owner, room["id"]))
    assert read.status_code == 503, read.text
    assert read.json()["error"]["code"] == "unavailable"
    assert "Retry-After" in read.headers
    assert took < REQUEST_WITHIN_S, f"the history read took {took:.1f}s"

    reply, took = await timed(
        ws.request(
            "send_room_chat_message",
            {"room_id": room["id"], "message_text": "during", "client_msg_id": "during-1"},
            timeout=60,
        )
    )
    assert error_code(reply) == "unavailable", reply
    assert took < REQUEST_WITHIN_S, f"the send's reply took {took:.1f}s"

    # A new socket cannot be authenticated: "try again later", not an HTTP 500 (1006).
    closed, took = await timed(handshake_close(server.ws_url, owner))
    assert closed == (1013, "unavailable")
    assert took < REQUEST_WITHIN_S, f"the handshake's close took {took:.1f}s"

    proxy.heal()

    await until_ready(server, timeout=30)
    # The same send again (its client_msg_id): stored once, whatever became of the first.
    again = await ws.say(room["id"], "during", client_msg_id="during-1")
    after = await ws.say(room["id"], "after the partition")
    assert after["seq"] > again["seq"]
    page: dict[str, Any] = await history(api, owner, room["id"])
    texts = [m["message_text"] for m in page["messages"]]
    assert texts == ["before the partition", "during", "after the partition"]
    await ws.close()

    # Requests that failed were answered, not crashed.
    assert "Exception in ASGI application" not in server.logs()
    # Every loop said the outage began and ended, once each, and no traceback was
    # written: an outage is an operator's news, not a bug to read a traceback of.
    for doing in LOOPS:
        await until(
            lambda d=doing: f"{d} {WORKS_AGAIN}" in server.logs(),  # type: ignore[misc]
            10,
            f"{doing}: works again",
        )
    logs = server.logs()
    for doing in LOOPS:
        assert logs.count(f"{doing} {OUT_OF_REACH}") == 1, logs
        assert logs.count(f"{doing} {WORKS_AGAIN}") == 1, logs
    assert "Traceback" not in logs, logs


async def test_sqlite_locked_by_another_process_answers_unavailable_then_recovers(
    tmp_path: Path,
) -> None:
    with running_server("sqlite", tmp_path, database_statement_timeout_s="1") as server:
        api = Api(server.base_url)
        try:
            owner = await api.register("owner")
            holder = sqlite3.connect(tmp_path / "roomchat.db", isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")  # another process's write, never ending
                body = {"name": "while locked"}
                refused, took = await timed(
                    api.http.post("/api/v1/workspaces/", json=body, headers=owner.headers)
                )
                assert refused.status_code == 503, refused.text
                assert refused.json()["error"]["code"] == "unavailable"
                assert took < REQUEST_WITHIN_S, f"the write took {took:.1f}s"
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            created = await api.call("POST", "/api/v1/workspaces/", owner, 201, json=body)
            assert created["name"] == "while locked"
        finally:
            await api.aclose()
