"""The room event log: every stored event is in it from the transaction that took its
seq, and replays as it was broadcast, whatever its kind."""

from __future__ import annotations

import asyncio

import pytest

from roomchat import jsoncodec
from roomchat.domain.events import RoomEvent
from roomchat.domain.replay import Replay
from roomchat.errors import ChatError, Code
from roomchat.store.seqs import reserve_seqs
from tests.unit.conftest import Domain


def replay_of(domain: Domain) -> Replay:
    return Replay(domain.store, domain.rooms, "unit", max_bytes=1024 * 1024)


async def test_group_committed_messages_replay_as_their_live_broadcasts(domain: Domain) -> None:
    owner = await domain.user("owner")
    workspace = await domain.workspaces.create(owner, "w")
    rooms = [await domain.rooms.create(owner, workspace.id, f"r{n}", None) for n in range(2)]
    sent = await asyncio.gather(
        *(
            domain.messages.send(owner, rooms[n % 2].id, f"m{n} \u00e9\U0001f600", '{"a":1}', None)
            for n in range(20)
        )
    )
    replay = replay_of(domain)
    for room in rooms:
        live = sorted(
            (s.event for s in sent if s.event and s.event.room_id == room.id),
            key=lambda e: e.seq,
        )
        assert [e.seq for e in live] == list(range(1, 11))
        assert await replay.events_between(room.id, 1, 10) == live
        assert await replay.events_between(room.id, 4, 6) == live[3:6]
        assert await replay.last_seq(room.id) == 10


async def test_any_kind_of_event_replays_exactly_and_a_rollback_leaves_none(
    domain: Domain,
) -> None:
    owner = await domain.user("owner")
    workspace = await domain.workspaces.create(owner, "w")
    room = await domain.rooms.create(owner, workspace.id, "r", None)
    data = jsoncodec.dumps({"room_id": room.id, "seq": 1, "name": 'new "name" \u00e9'})
    with pytest.raises(RuntimeError):
        async with domain.store.transaction() as tx:
            (seq,) = await reserve_seqs(tx.conn, [room.id])
            doomed = RoomEvent.build(room.id, seq, "room_chat_updated", data, "unit")
            await domain.store.events.append(tx, [doomed])
            raise RuntimeError("the change failed")
    replay = replay_of(domain)
    assert await replay.events_between(room.id, 1, 10) == []
    async with domain.store.transaction() as tx:
        (seq,) = await reserve_seqs(tx.conn, [room.id])
        kept = RoomEvent.build(room.id, seq, "room_chat_updated", data, "unit")
        await domain.store.events.append(tx, [kept])
    assert seq == 1
    assert await replay.events_between(room.id, 1, 10) == [kept]
    page = await replay.page(owner, room.id, 0, 10)
    assert page.items == [b'{"action":"room_chat_updated","data":' + data + b"}"]
    assert not page.has_more


async def test_a_page_is_for_room_members_and_a_bounded_limit(domain: Domain) -> None:
    owner, other = await domain.user("owner"), await domain.user("other")
    workspace = await domain.workspaces.create(owner, "w")
    room = await domain.rooms.create(owner, workspace.id, "r", None)
    replay = replay_of(domain)
    with pytest.raises(ChatError) as raised:
        await replay.page(other, room.id, 0, 10)
    assert raised.value.code == Code.FORBIDDEN
    for limit in (0, 101):
        with pytest.raises(ChatError) as raised:
            await replay.page(owner, room.id, 0, limit)
        assert raised.value.code == Code.VALIDATION_ERROR
