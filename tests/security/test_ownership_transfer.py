"""Issue 20, item 6: a former owner kept access through what they created.

After handing the workspace over and leaving, the old owner's API key added its bot
to a new passcode room and read it, and their webhook received the room's messages.
Handing a workspace on now revokes every API key of the workspace (their bots leave)
and deletes every webhook endpoint, in the transfer's transaction: the new owner
makes fresh ones (docs/security.md). Real servers and a real receiver, SQLite and
PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.client import Account, Api
from tests.support.receiver import Receiver, receiving
from tests.support.server import ServerProcess, module_server

WEBHOOKS = {
    "webhook_allowed_networks": "127.0.0.0/8",
    "webhook_backoff_initial_s": "0.2",
    "webhook_backoff_max_s": "0.5",
    "webhook_poll_interval_s": "0.5",
    "webhook_lease_s": "3",
    "webhook_timeout_s": "10",
    # The new owner's bot posts until the quiet time is over, as fast as deliveries go.
    "api_key_rate_limit": "1000/second",
    "rest_send_limit": "1000/second",
}
# Longer than any wait of the old endpoint's worker (a retry's backoff, a poll): an
# endpoint that was still delivering would have sent something within it.
QUIET_S = 2.0
MESSAGES = ["new_room_chat_message"]


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(backend, tmp_path_factory, "transfer", **WEBHOOKS) as process:
        yield process


def ws_path(workspace_id: int, rest: str = "") -> str:
    return f"/api/v1/workspaces/{workspace_id}{rest}"


async def post(api: Api, caller: Account, room_id: int, text: str, expect: int = 201) -> Any:
    return await api.call(
        "POST",
        f"/api/v1/room-chats/{room_id}/messages",
        caller,
        expect,
        json={"message_text": text},
    )


async def webhook(api: Api, owner: Account, workspace_id: int, receiver: Receiver) -> Any:
    return await api.call(
        "POST",
        ws_path(workspace_id, "/webhooks"),
        owner,
        201,
        json={"url": receiver.url(), "events": MESSAGES},
    )


def texts(receiver: Receiver) -> set[str]:
    return {e["data"]["message_text"] for e in receiver.accepted_events()}


async def test_the_former_owners_key_and_webhook_stop_at_the_transfer(api: Api) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    workspace = await api.workspace(alice, bob)
    wid = workspace["id"]
    room = await api.room(alice, wid)
    made = await api.call(
        "POST", ws_path(wid, "/api-keys"), alice, 201, json={"name": "alice's backend"}
    )
    key = Account(made["user"], made["key"])
    add_to_room = f"/api/v1/room-users/room/{room['id']}"
    await api.call("POST", add_to_room, key, 201, json={"user_id": key.id})

    async with receiving() as old, receiving() as fresh:
        # Alice's endpoint fails for now: her events wait for it, retried.
        old.answer = "fail"
        await webhook(api, alice, wid, old)
        await post(api, key, room["id"], "before the transfer")
        await old.wait_for(lambda r: len(r.requests) >= 2)
        # Its next retry is held open across the transfer.
        old.answer = "hang"
        await old.wait_for(lambda r: r.hanging == 1)

        moved = await api.call("POST", ws_path(wid, "/owner"), alice, json={"user_id": bob.id})
        assert moved["owner_id"] == bob.id
        old.release()
        old.answer = "ok"  # from now on, anything it is sent, it takes
        sent_before = len(old.requests)
        await api.call("DELETE", ws_path(wid, "/members/me"), alice)

        # The key is refused, whatever it tries; its bot is no member any more.
        passcode_room = await api.room(bob, wid, passcode="pass-1234")
        for method, path, body in (
            ("GET", "/api/v1/users/me", None),
            ("POST", f"/api/v1/room-users/room/{passcode_room['id']}", {"user_id": key.id}),
            ("GET", f"/api/v1/room-chats/{passcode_room['id']}/messages", None),
            ("GET", f"/api/v1/room-chats/{room['id']}/messages", None),
            ("POST", "/api/v1/room-chats/", {"workspace_id": wid, "name": "mine"}),
        ):
            refused = await api.call(method, path, key, 401, json=body)
            assert refused["code"] == "unauthorized"
        members = await api.call("GET", ws_path(wid, "/members"), bob)
        assert {m["user_id"] for m in members} == {bob.id}
        in_room = await api.call("GET", add_to_room, bob)
        assert key.id not in {m["user_id"] for m in in_room}

        # The new owner sees the key revoked and no endpoint, and makes fresh ones.
        (listed,) = await api.call("GET", ws_path(wid, "/api-keys"), bob)
        assert listed["id"] == made["id"] and listed["revoked_at"] is not None
        assert await api.call("GET", ws_path(wid, "/webhooks"), bob) == []
        await webhook(api, bob, wid, fresh)
        mine = await api.call("POST", ws_path(wid, "/api-keys"), bob, 201, json={"name": "bob's"})
        bot = Account(mine["user"], mine["key"])
        for each in (room, passcode_room):
            path = f"/api/v1/room-users/room/{each['id']}"
            await api.call("POST", path, bot, 201, json={"user_id": bot.id})

        # The rooms go on; bob's endpoint hears them, alice's hears nothing more.
        loop = asyncio.get_running_loop()
        started = loop.time()
        n = 0
        while loop.time() - started < QUIET_S:
            text = f"after the transfer {n}"
            await post(api, bot, (room, passcode_room)[n % 2]["id"], text)
            await fresh.wait_for(lambda r, t=text: t in texts(r))  # type: ignore[misc]
            n += 1
        assert len(old.requests) == sent_before
        assert old.accepted == []
