"""Signed webhooks (docs/integration.md) against a real receiver on 127.0.0.1: what is
sent and how it is signed, who may manage endpoints, receivers that are down, failing
or hanging, and a server killed mid-retry. Real servers, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import Account, Api, Ws, is_message
from tests.support.metrics import scrape, value
from tests.support.receiver import Receiver, receiving
from tests.support.server import ServerProcess, module_server, running_server

pytestmark = pytest.mark.integration

WEBHOOK_SETTINGS = {
    "webhook_allowed_networks": "127.0.0.0/8",
    "webhook_backoff_initial_s": "0.2",
    "webhook_backoff_max_s": "0.5",
    "webhook_poll_interval_s": "0.5",
    "webhook_lease_s": "3",
    "webhook_timeout_s": "2",
    "webhooks_per_workspace": "3",
}
MESSAGES = ["new_room_chat_message"]


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(backend, tmp_path_factory, "webhooks", **WEBHOOK_SETTINGS) as process:
        yield process


def hooks_path(workspace_id: int, rest: str = "") -> str:
    return f"/api/v1/workspaces/{workspace_id}/webhooks{rest}"


async def register(
    api: Api, owner: Account, workspace_id: int, url: str, events: list[str] = MESSAGES
) -> dict[str, Any]:
    made: dict[str, Any] = await api.call(
        "POST", hooks_path(workspace_id), owner, 201, json={"url": url, "events": events}
    )
    return made


async def setup(api: Api) -> tuple[Account, Account, dict[str, Any], dict[str, Any]]:
    """An owner, a member, their workspace and a room they are both in."""
    owner, member = await api.register(), await api.register()
    workspace = await api.workspace(owner, member)
    room = await api.room(owner, workspace["id"])
    await api.call(
        "POST", f"/api/v1/room-users/room/{room['id']}", owner, 201, json={"user_id": member.id}
    )
    return owner, member, workspace, room


async def post(api: Api, caller: Account, room_id: int, text: str) -> dict[str, Any]:
    sent: dict[str, Any] = await api.call(
        "POST", f"/api/v1/room-chats/{room_id}/messages", caller, 201, json={"message_text": text}
    )
    return sent


def texts(events: list[dict[str, Any]], room_id: int | None = None) -> list[str]:
    return [
        e["data"]["message_text"]
        for e in events
        if e["type"] == "new_room_chat_message" and room_id in (None, e["room_id"])
    ]


def once_each(receiver: Receiver) -> list[dict[str, Any]]:
    """Accepted events deduplicated by id (at least once: a receiver dedups by it)."""
    seen: dict[str, dict[str, Any]] = {}
    for event in receiver.accepted_events():
        seen.setdefault(event["id"], event)
    return list(seen.values())


def delivered_count(server: ServerProcess) -> float:
    return value(scrape(server), "roomchat_webhook_deliveries_total", outcome="delivered")


async def test_events_arrive_signed_once_each_in_seq_order(server: ServerProcess, api: Api) -> None:
    owner, member, workspace, room = await setup(api)
    other_room = await api.room(owner, workspace["id"])
    before = delivered_count(server)
    async with receiving() as receiver:
        events = ["new_room_chat_message", "room_chat_message_edited", "room_member_joined"]
        made = await register(api, owner, workspace["id"], receiver.url(), events)
        secret = made["secret"]
        assert secret.startswith("whsec_") and made["enabled"] is True
        listed = await api.call("GET", hooks_path(workspace["id"]), owner, 200)
        assert [h["id"] for h in listed] == [made["id"]]
        assert "secret" not in listed[0] and secret not in str(listed)

        ws = await Ws.connect(server.ws_url, member)
        try:
            await ws.join(room["id"])
            said = [await ws.say(room["id"], f"m{n}") for n in range(5)]
            await post(api, owner, other_room["id"], "elsewhere")
            heard = await ws.wait_for(is_message("m4"))
            # Delivered before the edit: one made after it reads the log, where each
            # message shows as it is now (m0 would come as "m0!").
            await receiver.wait_for(lambda r: "m4" in texts(r.accepted_events(), room["id"]))
            edit = await ws.request(
                "edit_room_chat_message",
                {"room_id": room["id"], "message_id": said[0]["id"], "message_text": "m0!"},
            )
            assert edit["status"] == "success"
            # A reaction is not asked for: it passes by, and what follows still comes.
            await ws.request(
                "add_room_chat_reaction",
                {"room_id": room["id"], "message_id": said[1]["id"], "reaction": "+1"},
            )
            await post(api, owner, room["id"], "last")
        finally:
            await ws.close()

        # Rooms are delivered side by side: each in seq order, not one before another.
        await receiver.wait_for(lambda r: {"last", "elsewhere"} <= set(texts(r.accepted_events())))
        got = once_each(receiver)
        for request in receiver.accepted:
            verified = request.verified(secret)
            assert request.headers["webhook-id"] == verified["id"]
        assert texts(got, room["id"]) == ["m0", "m1", "m2", "m3", "m4", "last"]
        assert texts(got, other_room["id"]) == ["elsewhere"]
        mine = [e for e in got if e["room_id"] == room["id"]]
        assert [e["seq"] for e in mine] == sorted(e["seq"] for e in mine)
        assert {e["type"] for e in got} == {"new_room_chat_message", "room_chat_message_edited"}
        first = next(e for e in got if e["data"].get("message_text") == "m4")
        assert first["data"] == heard["data"]  # the broadcast's data, as it is
        assert first["workspace_id"] == workspace["id"]
        assert first["id"] == f"evt_{room['id']}_{first['seq']}"
        edited = next(e for e in got if e["type"] == "room_chat_message_edited")
        assert edited["data"]["message"]["message_text"] == "m0!"
        assert len(receiver.accepted) == len(got)  # no failure here: nothing twice

        # Each attempt is recorded once its answer came: read until the last one is.
        attempts: list[Any] = []
        async with asyncio.timeout(20):
            while len(attempts) < len(got):
                attempts = await api.call(
                    "GET", hooks_path(workspace["id"], f"/{made['id']}/deliveries"), owner, 200
                )
        assert {a["outcome"] for a in attempts} == {"delivered"}
        assert {a["response_code"] for a in attempts} == {204}
        # Newest first: the reverse of the order the receiver took them in.
        assert [a["event_id"] for a in reversed(attempts)] == [e["id"] for e in got]
    assert delivered_count(server) - before == len(got)


async def test_only_the_owner_manages_webhooks(server: ServerProcess, api: Api) -> None:
    owner, member, workspace, _ = await setup(api)
    stranger = await api.register()
    their_workspace = await api.workspace(stranger)
    wid = workspace["id"]
    made = await register(api, owner, wid, "http://127.0.0.1:9/hook")
    hook = f"/{made['id']}"
    bot_key = await api.call(
        "POST", f"/api/v1/workspaces/{wid}/api-keys", owner, 201, json={"name": "bot"}
    )
    bot = Account(bot_key["user"], bot_key["key"])
    for caller in (member, stranger, bot):
        for method, rest, body in (
            ("POST", "", {"url": "http://127.0.0.1:9/x", "events": MESSAGES}),
            ("GET", "", None),
            ("GET", hook, None),
            ("PATCH", hook, {"enabled": False}),
            ("POST", f"{hook}/secret/rotate", None),
            ("GET", f"{hook}/deliveries", None),
            ("DELETE", hook, None),
        ):
            reply = await api.call(method, hooks_path(wid, rest), caller, 403, json=body)
            assert "secret" not in str(reply) and made["secret"] not in str(reply)
    # Another workspace's owner, through their own workspace's path: not found.
    await api.call("GET", hooks_path(their_workspace["id"], hook), stranger, 404)
    await api.call("DELETE", hooks_path(their_workspace["id"], hook), stranger, 404)
    listed = await api.call("GET", hooks_path(wid), owner, 200)
    assert [(h["id"], h["enabled"]) for h in listed] == [(made["id"], True)]


async def test_bad_input_is_refused_and_changes_nothing(server: ServerProcess, api: Api) -> None:
    owner, _, workspace, _ = await setup(api)
    wid = workspace["id"]
    refused = [
        {"url": "ftp://127.0.0.1/x", "events": MESSAGES},
        {"url": "http://user:pw@127.0.0.1/x", "events": MESSAGES},
        {"url": "http://127.0.0.1/x", "events": []},
        {"url": "http://127.0.0.1/x", "events": ["typing_indicator"]},
        {"url": "http://127.0.0.1/x", "events": "new_room_chat_message"},
        {"url": "http://127.0.0.1/" + "x" * 2100, "events": MESSAGES},
        {"url": "http://127.0.0.1/x", "events": MESSAGES, "secret": "mine"},
        # Outside the allowed 127.0.0.0/8: private, link-local (cloud metadata), IPv6
        # loopback, and a name that resolves to loopback over IPv6 too.
        {"url": "http://10.0.0.1/x", "events": MESSAGES},
        {"url": "http://169.254.169.254/latest/meta-data", "events": MESSAGES},
        {"url": "http://[::1]/x", "events": MESSAGES},
        {"url": "http://[::ffff:10.0.0.1]/x", "events": MESSAGES},
        {"url": "http://0.0.0.0:8000/x", "events": MESSAGES},
        {"url": "http://no-such-host.invalid/x", "events": MESSAGES},
        # IPv6 forms that reach an internal IPv4 host through a translator or tunnel:
        # IPv4-compatible, -translated, 6to4, NAT64 (both prefixes), and site-local.
        *(
            {"url": f"http://[{address}]/x", "events": MESSAGES}
            for address in (
                "::a00:1",
                "::ffff:0:a00:1",
                "2002:a00:1::1",
                "64:ff9b::a9fe:a9fe",
                "64:ff9b:1::a00:1",
                "fec0::1",
            )
        ),
    ]
    for body in refused:
        reply = await api.call("POST", hooks_path(wid), owner, 422, json=body)
        assert reply  # a message saying why
    made = await register(api, owner, wid, "http://127.0.0.1:9/a")
    hook = hooks_path(wid, f"/{made['id']}")
    for body in ({"url": "http://10.1.2.3/"}, {"events": ["nope"]}, {"enabled": None}):
        await api.call("PATCH", hook, owner, 422, json=body)
    assert await api.call("GET", hook, owner, 200) == {
        k: v for k, v in made.items() if k != "secret"
    }
    await api.call("GET", f"{hook}/deliveries?limit=0", owner, 422)
    await api.call("GET", f"{hook}/deliveries?limit=101", owner, 422)
    await register(api, owner, wid, "http://127.0.0.1:9/b")
    await register(api, owner, wid, "http://127.0.0.1:9/c")
    await api.call(
        "POST",
        hooks_path(wid),
        owner,
        409,
        json={"url": "http://127.0.0.1:9/d", "events": MESSAGES},
    )
    assert len(await api.call("GET", hooks_path(wid), owner, 200)) == 3


async def test_a_receiver_down_for_a_while_loses_nothing(server: ServerProcess, api: Api) -> None:
    owner, _, workspace, room = await setup(api)
    receiver = Receiver()
    made = await register(api, owner, workspace["id"], receiver.url())  # nobody listening
    hook = hooks_path(workspace["id"], f"/{made['id']}")
    for n in range(3):
        await post(api, owner, room["id"], f"while down {n}")
    attempts: list[Any] = []
    async with asyncio.timeout(20):
        while not attempts:  # the first attempt is made at once: read till it is recorded
            attempts = await api.call("GET", f"{hook}/deliveries", owner, 200)
    assert attempts[0]["outcome"] == "failed" and attempts[0]["next_retry_at"]
    state = await api.call("GET", hook, owner, 200)
    assert state["failing_since"] and state["failures"] >= 1 and state["enabled"]

    await receiver.start()
    try:
        await post(api, owner, room["id"], "back up")
        expected = ["while down 0", "while down 1", "while down 2", "back up"]
        await receiver.wait_for(lambda r: texts(once_each(r)) == expected)
        state = await api.call("GET", hook, owner, 200)
        assert state["failures"] == 0 and state["failing_since"] is None
    finally:
        await receiver.stop()


async def test_a_hanging_receiver_does_not_hold_up_chat(server: ServerProcess, api: Api) -> None:
    owner, member, workspace, room = await setup(api)
    async with receiving() as receiver:
        receiver.answer = "hang"
        await register(api, owner, workspace["id"], receiver.url())
        ws = await Ws.connect(server.ws_url, member)
        try:
            await ws.join(room["id"])
            await post(api, owner, room["id"], "first")
            await receiver.wait_for(lambda r: r.hanging == 1)
            # The receiver holds the delivery of "first" open; chat goes on meanwhile.
            for n in range(3):
                await post(api, owner, room["id"], f"while hanging {n}")
                await ws.wait_for(is_message(f"while hanging {n}"))
                assert receiver.hanging == 1 and not receiver.accepted
        finally:
            await ws.close()
        # Timed out, then retried: everything arrives once the receiver answers again.
        receiver.answer = "ok"
        receiver.release()
        want = ["first", "while hanging 0", "while hanging 1", "while hanging 2"]
        await receiver.wait_for(lambda r: texts(once_each(r)) == want)


async def test_rotating_the_secret_signs_with_both_for_a_while(
    server: ServerProcess, api: Api
) -> None:
    owner, _, workspace, room = await setup(api)
    async with receiving() as receiver:
        made = await register(api, owner, workspace["id"], receiver.url())
        rotated = await api.call(
            "POST", hooks_path(workspace["id"], f"/{made['id']}/secret/rotate"), owner, 200
        )
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]
        await post(api, owner, room["id"], "after rotation")
        await receiver.wait_for(lambda r: len(r.accepted) == 1)
        request = receiver.accepted[0]
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        for secret in (made["secret"], rotated["secret"]):
            assert request.verified(secret)["data"]["message_text"] == "after rotation"


async def roomchat_cli(server: ServerProcess, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "roomchat",
        *args,
        env=server.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_operator_lists_webhooks(server: ServerProcess, api: Api) -> None:
    owner, _, workspace, _ = await setup(api)
    made = await register(api, owner, workspace["id"], "http://127.0.0.1:9/listed")
    code, out, err = await roomchat_cli(
        server, "webhooks", "list", "--workspace", str(workspace["id"])
    )
    assert code == 0, err
    assert f"{made['id']}\tworkspace {workspace['id']}\tenabled\t" in out
    assert "http://127.0.0.1:9/listed" in out and made["secret"] not in out
    code, out, err = await roomchat_cli(server, "webhooks", "list", "--workspace", "999999")
    assert code == 1 and "no workspace" in err


@pytest.fixture
def short_window(backend: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own (the test kills it) that gives up on an endpoint after 4 s."""
    settings = {**WEBHOOK_SETTINGS, "webhook_retry_window_s": "4"}
    with running_server(backend, tmp_path, **settings) as process:
        yield process


async def test_server_killed_mid_retry_then_disabled_and_reenabled(
    short_window: ServerProcess,
) -> None:
    """A failing endpoint survives a killed server (its lease runs out, the next one
    takes over), is disabled once it has failed too long, and re-enabled it gets
    every event, in order."""
    server = short_window
    api = Api(server.base_url)
    try:
        owner, _, workspace, room = await setup(api)
        async with receiving() as receiver:
            receiver.answer = "fail"
            made = await register(api, owner, workspace["id"], receiver.url())
            hook = hooks_path(workspace["id"], f"/{made['id']}")
            await post(api, owner, room["id"], "one")
            await receiver.wait_for(lambda r: len(r.requests) >= 2)  # retried
            count = len(receiver.requests)
            server.kill()
            server.start()
            # The new instance takes the endpoint over and retries (on a slow machine its
            # first attempt can be the one that disables it: a restart can take 4 s).
            await receiver.wait_for(lambda r: len(r.requests) > count)
            await post(api, owner, room["id"], "two")
            state = await api.call("GET", hook, owner, 200)
            async with asyncio.timeout(30):  # the retry window is 4 s
                while state["enabled"]:  # (the last attempt may be the one that disables it)
                    state = await api.call("GET", hook, owner, 200)
            assert "disabled after" in state["disabled_reason"]
            assert not receiver.accepted

            receiver.answer = "ok"
            await api.call("PATCH", hook, owner, 200, json={"enabled": True})
            await receiver.wait_for(lambda r: texts(once_each(r)) == ["one", "two"])
            state = await api.call("GET", hook, owner, 200)
            assert state["enabled"] and state["disabled_reason"] is None
    finally:
        await api.aclose()


async def test_a_direct_conversations_events_never_reach_the_workspaces_endpoints(
    api: Api,
) -> None:
    """An endpoint is the workspace owner's: a direct conversation is its people's alone,
    the owner's own included (the endpoint is a system, not a person of the set)."""
    owner, member, workspace, room = await setup(api)
    dm = await api.call(
        "POST",
        "/api/v1/direct-chats/",
        owner,
        201,
        json={"workspace_id": workspace["id"], "user_ids": [member.id]},
    )
    async with receiving() as receiver:
        await register(api, owner, workspace["id"], receiver.url())
        await post(api, member, dm["id"], "between us")
        await post(api, owner, room["id"], "for everyone")
        await receiver.wait_for(lambda r: "for everyone" in texts(r.accepted_events()))
        await post(api, member, dm["id"], "still between us")
        await post(api, owner, room["id"], "again for everyone")
        await receiver.wait_for(lambda r: "again for everyone" in texts(r.accepted_events()))
        assert {e["room_id"] for e in receiver.accepted_events()} == {room["id"]}
