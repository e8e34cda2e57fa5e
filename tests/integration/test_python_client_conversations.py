"""roomchat.client with direct conversations, threads and mentions, against real servers:
a direct conversation opened and listed, a mention reaching a client that joined no
room (a signal: not sequenced as a room event), replies and their thread updates as
typed room events, and the thread calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from roomchat.client import (
    Client,
    Event,
    Mentioned,
    NewMessage,
    ThreadUpdated,
)
from tests.support.client import Api
from tests.support.server import ServerProcess

WAIT = 10.0


async def next_of(client: Client, match: Callable[[Event], bool]) -> Event:
    async with asyncio.timeout(WAIT):
        while True:
            event = await client.next_event()
            if match(event):
                return event


async def test_direct_chats_threads_and_mentions_through_the_client(
    server: ServerProcess, api: Api
) -> None:
    ann, bob = await api.register("ann"), await api.register("bob")
    workspace = await api.workspace(ann, bob)
    async with (
        Client(server.base_url, token=ann.token) as a,
        Client(server.base_url, token=bob.token) as b,
    ):
        dm = await a.open_direct_chat(workspace["id"], [bob.id])
        assert dm.is_direct and dm.name is None and dm.member_ids == tuple(sorted([ann.id, bob.id]))
        assert [r.id for r in await b.room_list(workspace["id"], kind="direct")] == [dm.id]
        await a.join(dm.id)

        said = await a.send(dm.id, f"@{bob.user['username']} a question")
        assert said.mentions == (bob.id,) and said.mentions_user(bob.id)
        told = await next_of(b, lambda e: isinstance(e, Mentioned))
        assert isinstance(told, Mentioned)
        assert (told.room_id, told.seq, told.message.id) == (dm.id, said.seq, said.id)
        assert b.position(dm.id) is None  # a signal: no room followed, nothing sequenced

        await b.join(dm.id)
        answer = await b.send(dm.id, "the answer", thread_root_id=said.id)
        assert answer.is_reply and answer.thread_root_id == said.id
        reply = await next_of(a, lambda e: isinstance(e, NewMessage) and e.message.id == answer.id)
        moved = await next_of(a, lambda e: isinstance(e, ThreadUpdated))
        assert isinstance(reply, NewMessage) and isinstance(moved, ThreadUpdated)
        assert moved.seq == reply.seq + 1 and moved.thread_root_id == said.id
        assert moved.thread is not None and moved.thread.reply_count == 1
        assert moved.message.thread == moved.thread

        messages, more = await a.thread(dm.id, said.id)
        assert [m.id for m in messages] == [said.id, answer.id] and not more
        [followed] = await a.followed_threads(workspace["id"])
        assert (followed.root.id, followed.unread_replies) == (said.id, 1)
        assert await a.mark_thread_read(dm.id, said.id, moved.seq) == 0
        assert await a.follow_thread(dm.id, said.id, follow=False) == 0
        assert await a.followed_threads(workspace["id"]) == []
