"""Sends per connection are limited: past the burst, rate_limited, and nothing is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.client import Api, Ws, error_code, send_many, stored_texts
from tests.support.databases import database_url
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def limited_server(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A server allowing 2 sends a second per connection, with a burst of 2."""
    directory = tmp_path_factory.mktemp(f"limited-{backend}")
    with database_url(backend, directory) as url:
        process = ServerProcess(url, directory, send_rate_per_second="2", send_burst="2")
        process.start()
        try:
            yield process
        finally:
            process.stop()


@pytest.fixture
async def limited_api(limited_server: ServerProcess) -> AsyncIterator[Api]:
    client = Api(limited_server.base_url)
    yield client
    await client.aclose()


async def test_sending_faster_than_the_limit_is_rate_limited_and_not_stored(
    limited_server: ServerProcess, limited_api: Api
) -> None:
    api = limited_api
    alice, bob = await api.register("alice"), await api.register("bob")
    ws = await api.workspace(alice, bob)
    room = await api.room(alice, ws["id"])
    a, b = (
        await Ws.connect(limited_server.ws_url, alice),
        await Ws.connect(limited_server.ws_url, bob),
    )
    try:
        await a.join(room["id"])
        await b.join(room["id"])
        replies = await send_many(a, room["id"], [f"fast {n}" for n in range(8)])
        codes = [error_code(r) for r in replies]
        # The burst goes through; the rest of a fast volley is refused.
        assert codes[:2] == [None, None]
        assert "rate_limited" in codes
        assert set(codes) <= {None, "rate_limited"}
        accepted = [r["data"]["message_text"] for r in replies if r["status"] == "success"]
        assert await stored_texts(api, alice, room["id"]) == accepted

        # The limit is per connection: Bob, and Alice on a second connection, still send.
        await b.say(room["id"], "bob is not limited")
        a2 = await Ws.connect(limited_server.ws_url, alice)
        try:
            await a2.say(room["id"], "alice's other connection")
        finally:
            await a2.close()
        # The limited connection stays open and answers.
        assert (await a.request("ping", {}))["status"] == "success"
    finally:
        await a.close()
        await b.close()
