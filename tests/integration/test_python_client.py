"""roomchat.client against real servers: typed events, reconnecting after a restart or a
drop with every missed change applied exactly once, safe retries, and the docs' bot."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from roomchat.client import (
    AuthenticationError,
    Backoff,
    Client,
    Connected,
    Disconnected,
    Event,
    MemberJoined,
    Message,
    MessageDeleted,
    MessageEdited,
    NewMessage,
    PresenceChanged,
    ReactionAdded,
    ReadReceipt,
    RoomAccessLost,
    RoomEvent,
    Typing,
)
from tests.support.client import Account, Api
from tests.support.proxy import Proxy
from tests.support.server import ServerProcess, running_server

DOCS = Path(__file__).parents[2] / "docs" / "integration.md"
PASSWORD = "password-123"  # what Api.register gives every account


@pytest.fixture(scope="module")
def chat_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of this module's own, to kill and restart; a catch-up reply holds at most
    5 events, so a longer absence is paged from the event log."""
    directory: Path = tmp_path_factory.mktemp(f"python-client-{backend}")
    with running_server(
        backend,
        directory,
        catch_up_limit="5",
        send_rate_per_second="1000",
        send_burst="1000",
        join_rate_per_second="1000",
        join_burst="1000",
        edit_rate_per_second="1000",
        edit_burst="1000",
    ) as process:
        yield process


@pytest.fixture
async def chat_api(chat_server: ServerProcess) -> AsyncIterator[Api]:
    client = Api(chat_server.base_url)
    yield client
    await client.aclose()


@pytest.fixture
async def proxy(chat_server: ServerProcess) -> AsyncIterator[Proxy]:
    """Between the client under test and the server: the network, failing on cue."""
    running = await Proxy(chat_server.port).start()
    yield running
    await running.aclose()


def quick() -> Backoff:
    """Reconnect within half a second of the server being back, not 15 s."""
    return Backoff(initial=0.05, cap=0.5)


@dataclass
class Room:
    alice: Account  # its creator, and the workspace's owner
    bob: Account
    id: int
    workspace_id: int


async def a_room(api: Api) -> Room:
    alice, bob = await api.register("Alice"), await api.register("Bob")
    workspace = await api.workspace(alice, bob)
    room = await api.room(alice, workspace["id"])
    return Room(alice, bob, room["id"], workspace["id"])


def client(server: ServerProcess, account: Account, **options: Any) -> Client:
    return Client(server.base_url, token=account.token, backoff=quick, **options)


async def events_until(
    chat: Client, match: Callable[[Event], bool], timeout: float = 15.0
) -> list[Event]:
    """The client's events in order, up to and including the first that matches."""
    seen: list[Event] = []
    async with asyncio.timeout(timeout):
        while True:
            seen.append(await chat.next_event())
            if match(seen[-1]):
                return seen


def says(text: str) -> Callable[[Event], bool]:
    return lambda e: isinstance(e, NewMessage) and e.message.text == text


def room_events(events: list[Event], room_id: int) -> list[RoomEvent]:
    return [e for e in events if isinstance(e, RoomEvent) and e.room_id == room_id]


def transcript(events: list[RoomEvent]) -> list[tuple[int, str | None]]:
    """What the user is shown: each message by its seq, with edits and deletes applied."""
    shown: dict[int, Message] = {}
    for event in events:
        if isinstance(event, NewMessage | MessageEdited):
            shown[event.message.id] = event.message
        elif isinstance(event, MessageDeleted):
            del shown[event.message_id]
    return sorted((m.seq, m.text) for m in shown.values())


async def stored(api: Api, account: Account, room_id: int) -> list[tuple[int, str | None]]:
    """The room's messages as the server has them now (deleted ones left out)."""
    path = f"/api/v1/room-chats/{room_id}/messages"
    page = await api.call("GET", path, account, params={"after_seq": 0, "limit": 100})
    return [(m["seq"], m["message_text"]) for m in page["messages"] if m["deleted_at"] is None]


async def test_a_conversation_arrives_as_typed_events(server: ServerProcess, api: Api) -> None:
    room = await a_room(api)
    async with client(server, room.alice) as alice, client(server, room.bob) as bob:
        await alice.join(room.id)
        joined = await bob.join(room.id)
        assert joined.room.id == room.id and joined.messages == ()
        seen = await events_until(alice, lambda e: isinstance(e, MemberJoined))
        bob_joined = seen[-1]
        assert isinstance(bob_joined, MemberJoined) and bob_joined.user.name == "Bob"
        bob_online = PresenceChanged(room.id, room.bob.id, True)
        if bob_online not in seen:
            seen += await events_until(alice, lambda e: e == bob_online)

        sent = await bob.send(room.id, "hello @alice", client_msg_id="greeting-1")
        assert (sent.text, sent.client_msg_id, sent.user.name) == (
            "hello @alice",
            "greeting-1",
            "Bob",
        )
        [new] = await events_until(alice, says("hello @alice"))
        assert new == NewMessage(room.id, sent.seq, sent)

        await bob.typing(room.id)
        typing = await events_until(alice, lambda e: isinstance(e, Typing))
        assert typing[-1] == Typing(room.id, room.bob.id, True)

        edited = await bob.edit(room.id, sent.id, "hello @alice!")
        assert await alice.react(room.id, sent.id, "👍")
        await bob.delete(room.id, sent.id)
        changes = room_events(
            await events_until(alice, lambda e: isinstance(e, MessageDeleted)), room.id
        )
        assert [type(e) for e in changes] == [MessageEdited, ReactionAdded, MessageDeleted]
        assert changes[0] == MessageEdited(room.id, sent.seq + 1, edited)
        assert edited.text == "hello @alice!" and edited.edited_at is not None
        # Each change carries the message as it is after it.
        reacted, deleted = changes[1], changes[2]
        assert isinstance(reacted, ReactionAdded) and isinstance(deleted, MessageDeleted)
        assert replace(reacted, message=None) == ReactionAdded(
            room.id, sent.seq + 2, sent.id, room.alice.id, "👍"
        )
        assert reacted.message is not None and reacted.message.text == "hello @alice!"
        assert [(r.reaction, r.user_ids) for r in reacted.message.reactions] == [
            ("👍", (room.alice.id,))
        ]
        assert replace(deleted, message=None) == MessageDeleted(
            room.id, sent.seq + 3, sent.id, room.bob.id
        )
        assert deleted.message is not None and deleted.message.deleted
        assert deleted.message.text is None

        # Bob's own events reach him too, and a read receipt of Alice's reaches him.
        await events_until(bob, lambda e: isinstance(e, MessageDeleted))
        assert await alice.mark_read(room.id, sent.seq + 3) == 0
        receipt = await events_until(bob, lambda e: isinstance(e, ReadReceipt))
        assert receipt[-1] == ReadReceipt(room.id, room.alice.id, sent.seq + 3)
        assert alice.position(room.id) == bob.position(room.id) == sent.seq + 3


async def test_after_a_server_restart_missed_messages_edits_and_deletes_arrive_once(
    chat_server: ServerProcess, chat_api: Api, proxy: Proxy
) -> None:
    room = await a_room(chat_api)
    alice = client(chat_server, room.alice, ws_url=proxy.ws_url)
    bob = client(chat_server, room.bob)
    async with alice, bob:
        await alice.join(room.id)
        await bob.join(room.id)
        before = await bob.send(room.id, "before the restart")
        seen = await events_until(alice, says("before the restart"))

        chat_server.kill()  # no goodbye: the process is gone
        seen += await events_until(alice, lambda e: isinstance(e, Disconnected))
        proxy.accepting = False  # Alice stays away while the others go on
        await asyncio.to_thread(chat_server.start)  # same port, same database
        gone = await bob.send(room.id, "missed, then deleted")
        kept = await bob.send(room.id, "missed")
        await bob.edit(room.id, before.id, "before the restart (edited)")
        await bob.delete(room.id, gone.id)
        last = await bob.send(room.id, "missed, last")
        proxy.accepting = True

        seen += await events_until(alice, lambda e: isinstance(e, Connected))
        await bob.send(room.id, "live again")
        seen += await events_until(alice, says("live again"))

    events = room_events(seen, room.id)
    # Every change once, in seq order, without a gap: nothing missed, nothing twice.
    seqs = [e.seq for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    assert transcript(events) == [
        (before.seq, "before the restart (edited)"),
        (kept.seq, "missed"),
        (last.seq, "missed, last"),
        (last.seq + 1, "live again"),
    ]
    assert transcript(events) == await stored(chat_api, room.alice, room.id)
    connections = [e for e in seen if isinstance(e, Connected)]
    assert connections == [Connected(reconnected=False), Connected(reconnected=True)]


async def test_a_long_absence_is_paged_from_the_event_log_once(
    chat_server: ServerProcess, chat_api: Api, proxy: Proxy
) -> None:
    """More was missed than a catch-up reply holds (5 here): the rest comes by REST."""
    room = await a_room(chat_api)
    alice = client(chat_server, room.alice, ws_url=proxy.ws_url)
    bob = client(chat_server, room.bob)
    async with alice, bob:
        await alice.join(room.id)
        await bob.join(room.id)
        await events_until(alice, lambda e: isinstance(e, MemberJoined))
        proxy.accepting = False
        proxy.cut()  # the network drops Alice's connection
        await events_until(alice, lambda e: isinstance(e, Disconnected))
        sent = [await bob.send(room.id, f"missed {n}") for n in range(12)]
        await bob.edit(room.id, sent[0].id, "missed 0 (edited)")
        await bob.delete(room.id, sent[1].id)
        proxy.accepting = True
        seen = await events_until(alice, lambda e: isinstance(e, MessageDeleted))
        await bob.send(room.id, "live again")
        seen += await events_until(alice, says("live again"))

    events = room_events(seen, room.id)
    seqs = [e.seq for e in events]
    assert seqs == list(range(sent[0].seq, seqs[-1] + 1)), seqs  # 15 events, each once
    assert transcript(events) == await stored(chat_api, room.alice, room.id)
    assert transcript(events)[0] == (sent[0].seq, "missed 0 (edited)")


async def test_a_send_retried_after_the_connection_dropped_is_stored_once(
    chat_server: ServerProcess, chat_api: Api, proxy: Proxy
) -> None:
    room = await a_room(chat_api)
    alice = client(chat_server, room.alice, ws_url=proxy.ws_url)
    bob = client(chat_server, room.bob)
    async with alice, bob:
        await alice.join(room.id)
        await bob.join(room.id)
        # The server stores the message and replies; the network loses the reply.
        proxy.cut_before(b'"action":"send_room_chat_message"')
        message = await alice.send(room.id, "only once")
        assert proxy.cut_done.is_set()
        assert proxy.connections == 2  # Alice's send went out again on a new connection
        await bob.send(room.id, "after it")
        seen = await events_until(bob, says("after it"))

    assert [e.message for e in seen if isinstance(e, NewMessage) and e.seq == message.seq] == [
        message
    ]
    texts = [text for _, text in await stored(chat_api, room.alice, room.id)]
    assert texts == ["only once", "after it"]


async def test_a_slow_application_still_gets_every_room_event_once_in_order(
    server: ServerProcess, api: Api
) -> None:
    """Two events fit in its queue; the rest is read again from the event log."""
    room = await a_room(api)
    async with client(server, room.alice, max_queued_events=2) as alice:
        await alice.join(room.id)
        async with client(server, room.bob) as bob:
            await bob.join(room.id)
            sent = [await bob.send(room.id, f"burst {n}") for n in range(20)]
        # Everything sent to Alice before this reply has reached her client (one socket,
        # in order): the burst overflowed her queue before she reads any of it.
        await alice.request("ping", {})
        seen = await events_until(alice, says("burst 19"))

    messages = [e.message for e in seen if isinstance(e, NewMessage)]
    assert messages == sent
    assert [e.seq for e in room_events(seen, room.id)] == list(
        range(sent[0].seq - 1, sent[-1].seq + 1)  # Bob's joining, then the burst
    )


async def test_a_later_run_resumes_where_the_last_one_stopped(
    server: ServerProcess, api: Api
) -> None:
    room = await a_room(api)
    async with client(server, room.alice) as alice:
        await alice.join(room.id)
        position = alice.position(room.id)
    assert position is not None
    async with client(server, room.bob) as bob:
        await bob.join(room.id)
        sent = [await bob.send(room.id, f"while away {n}") for n in range(3)]
    async with client(server, room.alice) as alice:
        joined = await alice.join(room.id, after_seq=position)
        seen = await events_until(alice, says("while away 2"))
        assert joined.seq == sent[-1].seq
    assert [e.message for e in seen if isinstance(e, NewMessage)] == sent


async def test_a_room_lost_while_away_is_reported_not_rejoined(
    chat_server: ServerProcess, chat_api: Api, proxy: Proxy
) -> None:
    room = await a_room(chat_api)
    async with client(chat_server, room.bob, ws_url=proxy.ws_url) as bob:
        await bob.join(room.id)
        proxy.accepting = False
        proxy.cut()
        await events_until(bob, lambda e: isinstance(e, Disconnected))
        path = f"/api/v1/room-users/room/{room.id}/users/{room.bob.id}"
        await chat_api.call("DELETE", path, room.alice)  # Alice removes Bob meanwhile
        proxy.accepting = True
        [*_, lost] = await events_until(bob, lambda e: isinstance(e, RoomAccessLost))
        assert isinstance(lost, RoomAccessLost)
        assert (lost.room_id, lost.code) == (room.id, "forbidden")
        assert bob.rooms == []


async def test_a_logout_stops_the_client(server: ServerProcess, api: Api) -> None:
    room = await a_room(api)
    async with client(server, room.alice) as alice:
        await alice.join(room.id)
        await api.call("POST", "/api/v1/auth/logout", room.alice, json={"all": True})
        with pytest.raises(AuthenticationError):
            async with asyncio.timeout(15):
                while True:
                    await alice.next_event()


async def test_a_password_login_and_a_wrong_password(server: ServerProcess, api: Api) -> None:
    room = await a_room(api)
    username = room.alice.user["username"]
    async with Client(server.base_url, username=username, password=PASSWORD) as alice:
        assert alice.user is not None and alice.user.id == room.alice.id
        joined = await alice.join(room.id)
        assert joined.room.id == room.id
    with pytest.raises(AuthenticationError):
        await Client(server.base_url, username=username, password="not-the-password").start()


def docs_bot() -> str:
    """The ten-line bot of docs/integration.md, as written there."""
    section = DOCS.read_text().split("## Python client", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "no python block in the Python client section"
    return code.group(1)


async def test_the_bot_in_the_docs_answers_a_mention(
    server: ServerProcess, api: Api, tmp_path: Path
) -> None:
    code = docs_bot()
    assert len(code.strip().splitlines()) <= 12, code
    room = await a_room(api)
    helper = await api.register("Helper")
    await api.add_member(room.alice, room.workspace_id, helper)
    script = tmp_path / "bot.py"
    script.write_text(code)
    env = {
        **os.environ,
        "CHAT_URL": server.base_url,
        "BOT_NAME": helper.user["username"],
        "BOT_PASSWORD": PASSWORD,
        "ROOM_ID": str(room.id),
    }
    output = tmp_path / "bot.log"
    with output.open("wb") as log:
        bot = await asyncio.create_subprocess_exec(
            sys.executable, str(script), env=env, stdout=log, stderr=log
        )
    try:
        async with client(server, room.alice) as alice:
            await alice.join(room.id)
            # The bot's first join makes it a member: then it is listening.
            await events_until(
                alice, lambda e: isinstance(e, MemberJoined) and e.user_id == helper.id, 30
            )
            # The bot reads in order: were it to answer this, that would come first.
            await alice.send(room.id, "nobody mentioned here")
            mention = await alice.send(room.id, f"@{helper.user['username']} are you there?")
            [*_, answer] = await events_until(
                alice, lambda e: isinstance(e, NewMessage) and e.message.user_id == helper.id
            )
    finally:
        bot.terminate()
        await bot.wait()
    assert isinstance(answer, NewMessage), output.read_text()
    assert answer.message.text == "Hi Alice, you called?"
    assert answer.seq == mention.seq + 1
