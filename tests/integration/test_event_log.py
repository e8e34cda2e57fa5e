"""The room event log over real sockets: GET .../events replays the broadcasts byte for
byte, and the join reply's seq is where the broadcasts continue."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.client import (
    BAD_PAGING,
    Account,
    Api,
    TracedWs,
    Ws,
    is_message,
    is_reply,
    marker,
    paging_id,
    send_many,
)
from tests.support.server import ServerProcess, module_server

NEW = "new_room_chat_message"
_DATA_AT = len(b'{"action":"new_room_chat_message","status":"success","data":')


def events_path(room_id: int) -> str:
    return f"/api/v1/room-chats/{room_id}/events"


async def events(api: Api, account: Account, room_id: int, **params: Any) -> Any:
    return await api.call("GET", events_path(room_id), account, params=params)


async def all_events(api: Api, account: Account, room_id: int, limit: int) -> list[Any]:
    """Every event of the room, paged ``limit`` at a time until has_more is false."""
    found: list[Any] = []
    after = 0
    while True:
        page = await events(api, account, room_id, after_seq=after, limit=limit)
        assert page["events"] or not page["has_more"]
        found += page["events"]
        if not page["has_more"]:
            return found
        after = page["events"][-1]["data"]["seq"]


async def pair_in_room(api: Api, passcode: str | None = None) -> tuple[Account, Account, Any]:
    alice, bob = await api.register("alice"), await api.register("bob")
    ws = await api.workspace(alice, bob)
    room = await api.room(alice, ws["id"], passcode=passcode)
    return alice, bob, room


@dataclass
class TwoClients:
    """Alice's connection and Bob's traced one (neither joined yet) to their room."""

    sender: Ws
    listener: TracedWs
    bob: Account
    room_id: int


@pytest.fixture
async def two(server: ServerProcess, api: Api) -> AsyncIterator[TwoClients]:
    alice, bob, room = await pair_in_room(api)
    sender = await Ws.connect(server.ws_url, alice)
    listener = await TracedWs.connect(server.ws_url, bob)
    try:
        yield TwoClients(sender, listener, bob, room["id"])
    finally:
        await sender.close()
        await listener.close()


TEXTS = ['caf\u00e9 \U0001f600 "quoted" \\ back\nslash', "plain", "\u2028 line sep", "<b>&amp;</b>"]


async def test_events_are_byte_for_byte_the_broadcasts_a_joined_client_received(
    api: Api, two: TwoClients
) -> None:
    sender, listener, rid = two.sender, two.listener, two.room_id
    await listener.join(rid)
    await sender.join(rid)
    # Pipelined from two senders, so batches of several messages share a commit.
    texts = [f"{t} {n}" for n in range(12) for t in TEXTS]
    replies = await asyncio.gather(
        send_many(sender, rid, texts[::2], message_content='{"k": [1, "\u00e9"]}'),
        send_many(listener, rid, texts[1::2]),
    )
    last = max(r["data"]["seq"] for rs in replies for r in rs)
    await listener.wait_for(lambda f: f.get("action") == NEW and f["data"]["seq"] == last)
    await marker(listener)
    broadcasts = [
        (frame, raw)
        for frame, raw in zip(listener.arrivals, listener.raw_arrivals, strict=True)
        if frame.get("action") == NEW
    ]
    # Seq 1 is bob's room_member_joined (bob opened the room's channel here: not sent
    # to him, as his join reply ends there); the messages follow.
    assert [f["data"]["seq"] for f, _ in broadcasts] == list(range(2, last + 1))

    response = await api.http.get(
        events_path(rid), headers=two.bob.headers, params={"after_seq": 0, "limit": 100}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.content
    page = json.loads(body)["data"]
    assert page["has_more"] is False
    joined, *rest = page["events"]
    assert (joined["action"], joined["data"]["user_id"]) == ("room_member_joined", two.bob.id)
    assert rest == [{"action": f["action"], "data": f["data"]} for f, _ in broadcasts]
    # Each event's data is the broadcast's data to the byte, in seq order.
    position = 0
    for _, raw in broadcasts:
        data = raw[_DATA_AT:-1]
        item = b'{"action":"new_room_chat_message","data":' + data + b"}"
        position = body.index(item, position) + len(item)


async def test_events_page_oldest_first_with_has_more(server: ServerProcess, api: Api) -> None:
    alice, _, room = await pair_in_room(api)
    rid = room["id"]
    assert await events(api, alice, rid) == {"events": [], "has_more": False}
    conn = await Ws.connect(server.ws_url, alice)
    try:
        await conn.join(rid)
        await send_many(conn, rid, [f"m{n}" for n in range(1, 8)])
    finally:
        await conn.close()

    def seqs(page: Any) -> list[int]:
        assert all(e["action"] == NEW for e in page["events"])
        return [e["data"]["seq"] for e in page["events"]]

    page = await events(api, alice, rid, after_seq=0, limit=3)
    assert (seqs(page), page["has_more"]) == ([1, 2, 3], True)
    page = await events(api, alice, rid, after_seq=3, limit=3)
    assert (seqs(page), page["has_more"]) == ([4, 5, 6], True)
    page = await events(api, alice, rid, after_seq=6, limit=3)
    assert (seqs(page), page["has_more"]) == ([7], False)
    page = await events(api, alice, rid, after_seq=7)
    assert page == {"events": [], "has_more": False}
    page = await events(api, alice, rid)  # after_seq 0, limit 50
    assert (seqs(page), page["has_more"]) == ([1, 2, 3, 4, 5, 6, 7], False)
    assert [e["data"]["message_text"] for e in page["events"]] == [f"m{n}" for n in range(1, 8)]
    page = await events(api, alice, rid, after_seq=2**53 - 1, limit=100)
    assert page == {"events": [], "has_more": False}


async def test_events_are_for_room_members_only(server: ServerProcess, api: Api) -> None:
    alice, bob, room = await pair_in_room(api, passcode="zebra-7391")
    rid = room["id"]
    conn = await Ws.connect(server.ws_url, alice)
    try:
        await conn.join(rid)
        await conn.say(rid, "members only")
    finally:
        await conn.close()
    # A workspace member who has not joined the passcode room.
    error = await api.call("GET", events_path(rid), bob, 403)
    assert error["code"] == "forbidden"
    assert "members only" not in json.dumps(error)
    # Someone from another workspace: forbidden, never the room's data.
    stranger = await api.register("stranger")
    await api.workspace(stranger)
    error = await api.call("GET", events_path(rid), stranger, 403)
    assert error["code"] == "forbidden"
    assert "members only" not in json.dumps(error)
    # No token at all.
    await api.call("GET", events_path(rid), None, 401)
    # Once bob joined with the passcode, the same request works.
    joined = await Ws.connect(server.ws_url, bob)
    try:
        await joined.join(rid, passcode="zebra-7391")
    finally:
        await joined.close()
    page = await events(api, bob, rid)
    assert [e["action"] for e in page["events"]] == [NEW, "room_member_joined"]
    assert page["events"][0]["data"]["message_text"] == "members only"


@pytest.mark.parametrize(
    "params",
    [*BAD_PAGING, {"after_seq": 2**53}, {"after_seq": "0x10"}, {"after_seq": " 1"}],
    ids=paging_id,
)
async def test_events_reject_bad_paging(
    server: ServerProcess, api: Api, reader: Account, params: dict[str, Any]
) -> None:
    ws = await api.workspace(reader)
    room = await api.room(reader, ws["id"])
    error = await api.call("GET", events_path(room["id"]), reader, 422, params=params)
    assert error["code"] == "validation_error"


async def test_join_reply_seq_is_where_the_broadcasts_continue(api: Api, two: TwoClients) -> None:
    sender, listener, rid = two.sender, two.listener, two.room_id
    empty = (await sender.join(rid))["data"]
    assert empty["seq"] == 0 and empty["messages"] == []
    await send_many(sender, rid, [f"m{n}" for n in range(1, 6)])
    data = (await listener.join(rid))["data"]
    assert list(data) == ["room", "messages", "has_more", "seq", "online_user_ids"]
    # seq is the room's seq, not its newest message's: the listener's own joining took
    # seq 6 before the reply was read, so the reply holds it and it is not sent again.
    assert data["messages"][-1]["seq"] == 5 and data["seq"] == 6
    assert data["has_more"] is False
    joined = await sender.wait_for(lambda f: f.get("action") == "room_member_joined")
    assert joined["data"]["seq"] == 6
    await sender.say(rid, "next")
    after = await listener.wait_for(is_message("next"))
    assert after["data"]["seq"] == data["seq"] + 1
    assert not [f for f in listener.received if f.get("action") == "room_member_joined"]
    # With after_seq, the reply holds every event after it, each as it was broadcast,
    # and seq is where they end.
    caught_up = (await listener.join(rid, after_seq=2))["data"]
    assert [e["data"]["seq"] for e in caught_up["events"]] == [3, 4, 5, 6, 7]
    assert caught_up["events"][3] == {"action": "room_member_joined", "data": joined["data"]}
    assert caught_up["events"][4] == {"action": "new_room_chat_message", "data": after["data"]}
    assert caught_up["seq"] == 7
    nothing = (await listener.join(rid, after_seq=7))["data"]
    assert (nothing["events"], nothing["seq"]) == ([], 7)


MAX_REJOINS = 500


async def test_a_join_during_reactions_sees_each_reaction_exactly_once(two: TwoClients) -> None:
    """A join reply's messages and its seq are read at one point in time: a reaction
    stored while the reply is read is either in its counts or broadcast after it,
    never both and never neither (the count would drift for good)."""
    sender, listener, rid = two.sender, two.listener, two.room_id
    await sender.join(rid)
    target = (await sender.say(rid, "react to me"))["id"]
    last_toggle: dict[str, int] = {}

    async def toggle(times: int) -> None:
        for n in range(times):
            action = "add_room_chat_reaction" if n % 2 == 0 else "remove_room_chat_reaction"
            payload = {"room_id": rid, "message_id": target, "reaction": "👍"}
            reply = await sender.request(action, payload)
            assert reply["status"] == "success", reply
            last_toggle["seq"] = reply["data"]["seq"]

    toggling = asyncio.create_task(toggle(61))  # odd: the reaction is there at the end
    rejoins = 0
    # Joins are served from memory now, hundreds a second: at most MAX_REJOINS of them,
    # under the module server's join burst (1000), so none is refused as rate_limited.
    while not toggling.done() and rejoins < MAX_REJOINS:
        await listener.send("join_room_chat", {"room_id": rid}, request_id=f"rejoin-{rejoins}")
        await listener.wait_for(is_reply(f"rejoin-{rejoins}"))
        rejoins += 1
    await toggling
    assert rejoins >= 3, "the joins did not overlap the reactions: nothing proved"
    last_reply = next(
        f for f in listener.arrivals if f.get("request_id") == f"rejoin-{rejoins - 1}"
    )
    assert "data" in last_reply, last_reply
    if last_reply["data"]["seq"] < last_toggle["seq"]:  # the last toggle follows the reply
        await listener.wait_for(lambda f: f.get("data", {}).get("seq") == last_toggle["seq"])
    frames = listener.arrivals
    for n in range(rejoins):
        start = next(i for i, f in enumerate(frames) if f.get("request_id") == f"rejoin-{n}")
        assert "data" in frames[start], frames[start]
        reply = frames[start]["data"]
        (message,) = [m for m in reply["messages"] if m["id"] == target]
        count = sum(r["count"] for r in message["reactions"])
        seq = reply["seq"]
        for frame in frames[start + 1 :]:
            if frame.get("request_id", "").startswith("rejoin-"):
                break
            data = frame.get("data", {})
            assert data.get("seq", seq + 1) > seq, f"rejoin-{n}: a seq repeated or reordered"
            seq = data.get("seq", seq)
            if frame.get("action") == "room_chat_reaction_added":
                count += 1
            elif frame.get("action") == "room_chat_reaction_removed":
                count -= 1
            assert count in (0, 1), f"rejoin-{n}: counted {count} after seq {seq}"
        if n == rejoins - 1:
            assert count == 1


async def test_a_join_during_a_stream_of_sends_misses_and_repeats_nothing(
    api: Api, two: TwoClients
) -> None:
    sender, listener, rid = two.sender, two.listener, two.room_id
    await sender.join(rid)
    await send_many(sender, rid, [f"before {n}" for n in range(20)])
    sending = asyncio.create_task(send_many(sender, rid, [f"during {n}" for n in range(80)]))
    reply = (await listener.join(rid))["data"]
    await sending
    # The listener's first join made it a member: its room_member_joined took a seq
    # among the messages' (101 in all).
    [joined] = [
        e for e in await all_events(api, two.bob, rid, 100) if e["action"] == "room_member_joined"
    ]
    joined_seq = joined["data"]["seq"]
    if reply["seq"] < 101:
        await listener.wait_for(lambda f: f.get("data", {}).get("seq") == 101)
    await marker(listener)
    in_reply = [m["seq"] for m in reply["messages"]]
    assert in_reply[-1] <= reply["seq"]
    durable = [
        f["data"]["seq"]
        for f in listener.arrivals
        if f.get("action") in (NEW, "room_member_joined") and "seq" in f.get("data", {})
    ]
    # The broadcasts hold every seq after the reply's, once, in order; the reply holds
    # every message from its oldest on up to its seq: the one seq in between that is
    # no message is the join's own event (which the reply's state already holds).
    assert durable == list(range(reply["seq"] + 1, 102))
    assert set(range(in_reply[0], reply["seq"] + 1)) - set(in_reply) <= {joined_seq}


CAP = 3000


@pytest.fixture(scope="module")
def capped(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose catch-up byte cap is a few messages."""
    with module_server(backend, tmp_path_factory, "capped", catch_up_max_bytes=str(CAP)) as s:
        yield s


async def test_an_events_page_stays_within_the_catch_up_byte_cap(capped: ServerProcess) -> None:
    api = Api(capped.base_url)
    try:
        alice, _, room = await pair_in_room(api)
        rid = room["id"]
        conn = await Ws.connect(capped.ws_url, alice)
        try:
            await conn.join(rid)
            await send_many(conn, rid, [f"{n:03d} " + "x" * 500 for n in range(30)])
        finally:
            await conn.close()
        response = await api.http.get(
            events_path(rid), headers=alice.headers, params={"limit": 100}
        )
        page = response.json()["data"]
        assert page["has_more"] is True
        assert 1 < len(page["events"]) < 30
        listed = response.content[len(b'{"status":"success","data":{"events":[') :]
        assert len(listed[: listed.rindex(b'],"has_more"')]) <= CAP
        every = await all_events(api, alice, rid, limit=100)
        assert [e["data"]["seq"] for e in every] == list(range(1, 31))
        # An event larger than the cap on its own still comes, one a page.
        conn = await Ws.connect(capped.ws_url, alice)
        try:
            await conn.join(rid)
            await send_many(conn, rid, ["y" * (CAP + 10), "z" * (CAP + 10)])
        finally:
            await conn.close()
        page = await events(api, alice, rid, after_seq=30)
        assert [e["data"]["seq"] for e in page["events"]] == [31]
        assert page["has_more"] is True
        page = await events(api, alice, rid, after_seq=31)
        assert [e["data"]["seq"] for e in page["events"]] == [32]
        assert page["has_more"] is False
    finally:
        await api.aclose()
