"""Per-room seq under concurrency: gapless, one order for everyone, nothing lost while joining."""

from __future__ import annotations

import asyncio
from itertools import pairwise
from typing import Any

from tests.support.client import (
    Api,
    TracedWs,
    Ws,
    caught_up_messages,
    is_message,
    is_reply,
    send_many,
)
from tests.support.server import ServerProcess


def is_seq(seq: int) -> Any:
    return lambda f: f.get("action") == "new_room_chat_message" and f["data"]["seq"] == seq


async def test_seq_is_gapless_under_concurrent_senders_on_two_connections(
    server: ServerProcess, api: Api
) -> None:
    alice, bob, carol = (
        await api.register("alice"),
        await api.register("bob"),
        await api.register("carol"),
    )
    ws = await api.workspace(alice, bob, carol)
    room = await api.room(alice, ws["id"])
    a, b, watcher = (
        await TracedWs.connect(server.ws_url, alice),
        await TracedWs.connect(server.ws_url, bob),
        await TracedWs.connect(server.ws_url, carol),
    )
    per_sender = 60
    total = 2 * per_sender
    try:
        for conn in (a, b, watcher):
            await conn.join(room["id"])
        base = 2  # seqs 1 and 2: bob's and carol's room_member_joined
        a_replies, b_replies = await asyncio.gather(
            send_many(a, room["id"], [f"a{n}" for n in range(per_sender)]),
            send_many(b, room["id"], [f"b{n}" for n in range(per_sender)]),
        )
        a_seqs = [r["data"]["seq"] for r in a_replies]
        b_seqs = [r["data"]["seq"] for r in b_replies]
        # Each sender's messages keep their order; together they are exactly the next N.
        assert a_seqs == sorted(a_seqs) and b_seqs == sorted(b_seqs)
        assert sorted(a_seqs + b_seqs) == list(range(base + 1, base + total + 1))

        # Every joined connection sees all of them once, in seq order.
        for conn in (a, b, watcher):
            await conn.wait_for(is_seq(base + total))
            assert conn.seqs(room["id"]) == list(range(base + 1, base + total + 1))
        texts = {m["seq"]: m["message_text"] for m in watcher.messages(room["id"])}
        assert [texts[s] for s in a_seqs] == [f"a{n}" for n in range(per_sender)]
        assert [texts[s] for s in b_seqs] == [f"b{n}" for n in range(per_sender)]
    finally:
        for conn in (a, b, watcher):
            await conn.close()

    page = await api.call(
        "GET", f"/api/v1/room-chats/{room['id']}/messages", alice, params={"limit": 100}
    )
    assert [m["seq"] for m in page["messages"]] == list(range(base + total - 99, base + total + 1))


def window_after_reply(
    frames: list[dict[str, Any]], request_id: str, room_id: int
) -> tuple[list[int], list[int]]:
    """(seqs in the join reply, seqs broadcast after it) from frames in arrival order."""
    start = next(i for i, f in enumerate(frames) if f.get("request_id") == request_id)
    reply = frames[start]
    assert reply["status"] == "success", reply
    history = [m["seq"] for m in caught_up_messages(reply["data"])]
    after = [
        f["data"]["seq"]
        for f in frames[start + 1 :]
        if f.get("action") == "new_room_chat_message" and f["data"]["room_id"] == room_id
    ]
    return history, after


async def test_join_during_sends_gets_every_message_exactly_once(
    server: ServerProcess, api: Api
) -> None:
    """While one client sends fast, another joins again and again on fresh connections.

    Each join's reply plus the broadcasts after it must hold every message from the
    reply's oldest one to the last one sent, once each, in order.
    """
    alice, bob = await api.register("alice"), await api.register("bob")
    ws = await api.workspace(alice, bob)
    room = await api.room(alice, ws["id"])
    rid = room["id"]
    total = 300
    sender = await Ws.connect(server.ws_url, alice)
    joiners: list[tuple[TracedWs, str]] = []
    try:
        await sender.join(rid)
        # bob's first join makes him a member: seq 1 is his room_member_joined; the
        # messages are 2..total + 1 (later joins make no member and no event).
        first_join = await Ws.connect(server.ws_url, bob)
        await first_join.join(rid)
        await first_join.close()
        sending = asyncio.create_task(
            send_many(sender, rid, [f"m{n}" for n in range(1, total + 1)], timeout=60)
        )
        while not sending.done() and len(joiners) < 40:
            conn = await TracedWs.connect(server.ws_url, bob)
            request_id = f"join-{len(joiners)}"
            joiners.append((conn, request_id))
            await conn.send("join_room_chat", {"room_id": rid}, request_id=request_id)
            await conn.wait_for(is_reply(request_id))
        replies = await sending
        assert [r["data"]["seq"] for r in replies] == list(range(2, total + 2))

        joined_mid_stream = 0
        for conn, request_id in joiners:
            history, _ = window_after_reply(conn.arrivals, request_id, rid)
            if not history or history[-1] < total + 1:
                await conn.wait_for(is_message(f"m{total}"), timeout=30)
            history, after = window_after_reply(conn.arrivals, request_id, rid)
            seen = history + after
            assert len(seen) == len(set(seen)), f"{request_id}: duplicates in {seen}"
            first = history[0] if history else 2
            assert seen == list(range(first, total + 2)), f"{request_id}: gap or disorder"
            if len(history) < 50:
                assert first == 2, f"{request_id}: a short history must start at seq 2"
            if history and history[-1] < total + 1:
                joined_mid_stream += 1
        # The race was really exercised: some joins landed while messages were flowing.
        assert joined_mid_stream > 0
    finally:
        await sender.close()
        for conn, _ in joiners:
            await conn.close()


async def test_rejoining_the_same_connection_during_sends_neither_loses_nor_doubles(
    server: ServerProcess, api: Api
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    ws = await api.workspace(alice, bob)
    room = await api.room(alice, ws["id"])
    rid = room["id"]
    total = 200
    sender = await Ws.connect(server.ws_url, alice)
    joiner = await TracedWs.connect(server.ws_url, bob)
    try:
        await sender.join(rid)
        await joiner.join(rid)
        sending = asyncio.create_task(
            send_many(sender, rid, [f"m{n}" for n in range(1, total + 1)], timeout=60)
        )
        rejoins = 0
        while not sending.done() and rejoins < 30:
            request_id = f"rejoin-{rejoins}"
            payload = {"room_id": rid, "after_seq": 0}
            await joiner.send("join_room_chat", payload, request_id=request_id)
            await joiner.wait_for(is_reply(request_id))
            rejoins += 1
        await sending
        await joiner.wait_for(is_message(f"m{total}"), timeout=30)
        frames = joiner.arrivals
        # After the last rejoin, its reply (everything after seq 0) plus what followed
        # is exactly the messages 2..total + 1 (seq 1: bob's room_member_joined).
        history, after = window_after_reply(frames, f"rejoin-{rejoins - 1}", rid)
        assert history + after == list(range(2, total + 2))
        # Between two rejoins, the broadcasts continue right after the earlier reply's history.
        positions = [
            next(i for i, f in enumerate(frames) if f.get("request_id") == f"rejoin-{n}")
            for n in range(rejoins)
        ]
        for n, (start, end) in enumerate(pairwise(positions)):
            history, after = window_after_reply(frames[start:end], f"rejoin-{n}", rid)
            first = history[-1] + 1 if history else 2
            assert after == list(range(first, first + len(after))), f"after rejoin-{n}"
    finally:
        await sender.close()
        await joiner.close()
