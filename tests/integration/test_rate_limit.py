"""Sends per connection are limited: past the burst, rate_limited, and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.client import Api, Ws, error_code, send_many, stored_texts
from tests.support.server import ServerProcess, running_server


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """This module's server (conftest's ``api`` talks to it): 2 sends a second per
    connection, with a burst of 2."""
    directory = tmp_path_factory.mktemp(f"limited-{backend}")
    with running_server(backend, directory, send_rate_per_second="2", send_burst="2") as process:
        yield process


async def test_sending_faster_than_the_limit_is_rate_limited_and_not_stored(
    server: ServerProcess, api: Api
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    ws = await api.workspace(alice, bob)
    room = await api.room(alice, ws["id"])
    a, b = (
        await Ws.connect(server.ws_url, alice),
        await Ws.connect(server.ws_url, bob),
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
        a2 = await Ws.connect(server.ws_url, alice)
        try:
            await a2.say(room["id"], "alice's other connection")
        finally:
            await a2.close()
        # The limited connection stays open and answers.
        assert (await a.request("ping", {}))["status"] == "success"
    finally:
        await a.close()
        await b.close()
