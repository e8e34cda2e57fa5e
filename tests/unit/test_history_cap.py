"""A join reply's history is capped in bytes as well as in count; the rest is paged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import insert

from roomchat import jsoncodec
from roomchat.domain.messages import History, MessageLimits, MessageService
from roomchat.domain.models import User
from roomchat.domain.replay import Replay
from roomchat.realtime import protocol
from roomchat.store.tables import users
from tests.unit.conftest import Domain, message_service

TEXT = "x" * 1000


async def a_user(domain: Domain) -> User:
    """A user row as registration leaves it (registration's rules are tested elsewhere)."""
    name = f"owner_{uuid.uuid4().hex[:8]}"
    row = {"username": name, "display_name": name, "password_hash": "-", "username_key": name}
    async with domain.store.engine.begin() as conn:
        result = await conn.execute(
            insert(users).values(**row, created_at=datetime.now(UTC)).returning(users.c.id)
        )
        user_id = result.scalar_one()
    return User(user_id, name, name, None)


async def room_with_messages(domain: Domain, count: int) -> int:
    owner = await a_user(domain)
    ws = await domain.workspaces.create(owner, "ws")
    room = await domain.rooms.create(owner, ws.id, "big", None)
    for n in range(count):
        await domain.messages.send(owner, room.id, f"{n:03d} {TEXT}", None, None)
    return room.id


def capped(domain: Domain, **limits: int) -> MessageService:
    return message_service(domain, limits=MessageLimits(**limits))


def replay(domain: Domain, max_bytes: int = 1024 * 1024, **limits: int) -> Replay:
    return Replay(domain.store, domain.rooms, "unit", max_bytes=max_bytes, **limits)


def seqs(history: History) -> list[int]:
    """The seqs of a join reply's messages, or of its events when it catches up."""
    items = [jsoncodec.loads(m) for m in history.encoded]
    return [item["data"]["seq"] if "action" in item else item["seq"] for item in items]


async def test_catch_up_stops_before_the_byte_cap_and_says_has_more(domain: Domain) -> None:
    room_id = await room_with_messages(domain, 30)
    service = replay(domain, max_bytes=10_000)
    got: list[int] = []
    after = 0
    while True:
        history = await service.catch_up(room_id, after)
        listed = b"[" + b",".join(history.encoded) + b"]"
        assert len(listed) <= 10_000 + 1
        assert history.encoded, "every page makes progress"
        got += seqs(history)
        assert history.seq == got[-1]
        if not history.has_more:
            break
        assert len(listed) + 1200 > 10_000  # cut because the next would not fit
        after = history.seq
    assert got == list(range(1, 31))


async def test_latest_keeps_the_newest_that_fit(domain: Domain) -> None:
    room_id = await room_with_messages(domain, 30)
    history = await capped(domain, catch_up_max_bytes=10_000).latest(room_id)
    assert history.has_more and history.seq == 30
    assert seqs(history) == list(range(31 - len(history.encoded), 31))
    full = await capped(domain).latest(room_id)
    assert seqs(full) == list(range(1, 31)) and not full.has_more


async def test_count_caps_still_hold_across_chunks(domain: Domain) -> None:
    room_id = await room_with_messages(domain, 30)
    after = await replay(domain, catch_up=25, page=7).catch_up(room_id, 2)
    assert seqs(after) == list(range(3, 28)) and after.has_more and after.seq == 27
    rest = await replay(domain, catch_up=25, page=7).catch_up(room_id, 27)
    assert seqs(rest) == [28, 29, 30] and not rest.has_more and rest.seq == 30
    latest = await capped(domain, history=20, read_chunk=7).latest(room_id)
    assert seqs(latest) == list(range(11, 31)) and latest.has_more
    nothing = await replay(domain, page=7).catch_up(room_id, 30)
    assert nothing.encoded == [] and nothing.seq == 30 and not nothing.has_more
    # A seq from the future (a client's bug) ends the reply at the room's seq: nothing
    # that follows is held back from that client.
    future = await replay(domain).catch_up(room_id, 1000)
    assert future.encoded == [] and future.seq == 30 and not future.has_more


def test_join_data_is_the_json_the_reply_always_had() -> None:
    room = {"id": 1, "name": "r"}
    messages = [{"seq": 1, "message_text": "a\\n\u00e9"}, {"seq": 2, "message_text": "b"}]
    for listed, online in (([], None), (messages, [3, 7])):
        for has_more in (True, False):
            seq = len(listed) * (2**62)
            expected = jsoncodec.dumps(
                {
                    "room": room,
                    "messages": listed,
                    "has_more": has_more,
                    "seq": seq,
                    "online_user_ids": online,
                }
            )
            encoded = [jsoncodec.dumps(m) for m in listed]
            got = protocol.join_data(jsoncodec.dumps(room), encoded, has_more, seq, online)
            assert got == expected
            events = [{"action": "x", "data": m} for m in listed]
            expected = jsoncodec.dumps(
                {
                    "room": room,
                    "events": events,
                    "has_more": has_more,
                    "seq": seq,
                    "online_user_ids": online,
                }
            )
            encoded = [jsoncodec.dumps(e) for e in events]
            got = protocol.catch_up_data(jsoncodec.dumps(room), encoded, has_more, seq, online)
            assert got == expected
