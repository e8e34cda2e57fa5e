"""Read state over real sockets on real servers: marking read and unread, exact unread
counts (deletes and one's own messages), the room list and workspace summary agreeing
with them, receipts (coalesced, hidden on opt-out), readers, and every device of a user
hearing of a move."""

from __future__ import annotations

from typing import Any

from tests.support.client import Account, Api, TracedWs, Ws, error_code
from tests.support.server import ServerProcess

READ = "room_chat_read"
READ_UPDATED = "room_read_updated"


async def room_list_entry(api: Api, account: Account, workspace_id: int, room_id: int) -> Any:
    rooms = await api.call("GET", f"/api/v1/room-chats/workspace/{workspace_id}", account)
    return next(r for r in rooms if r["id"] == room_id)


async def unread(api: Api, account: Account, workspace_id: int) -> Any:
    return await api.call("GET", f"/api/v1/workspaces/{workspace_id}/unread", account)


async def mark(ws: Ws, room_id: int, seq: int, action: str = "mark_room_read") -> Any:
    reply = await ws.request(action, {"room_id": room_id, "seq": seq})
    assert reply["status"] == "success", reply
    return reply["data"]


async def test_unread_counts_follow_sends_deletes_and_marks(
    server: ServerProcess, api: Api
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    ws = await api.workspace(alice, bob)
    room = await api.room(alice, ws["id"])
    rid, wid = room["id"], ws["id"]
    a, b = await Ws.connect(server.ws_url, alice), await Ws.connect(server.ws_url, bob)
    try:
        await a.join(rid)
        await b.join(rid)  # seq 1: bob's joining; his position starts at 0
        sent = [await a.say(rid, f"m{n}") for n in range(3)]  # seqs 2, 3, 4
        entry = await room_list_entry(api, bob, wid, rid)
        assert (entry["unread_count"], entry["last_read_seq"]) == (3, 0)
        assert entry["last_message"]["id"] == sent[-1]["id"]
        # alice's own messages never count for her; sending marked her room read.
        mine = await room_list_entry(api, alice, wid, rid)
        assert (mine["unread_count"], mine["last_read_seq"]) == (0, sent[-1]["seq"])

        # A deleted message stops counting, and is no longer the last message.
        deleted = await a.request(
            "delete_room_chat_message", {"room_id": rid, "message_id": sent[-1]["id"]}
        )
        assert deleted["status"] == "success"
        entry = await room_list_entry(api, bob, wid, rid)
        assert entry["unread_count"] == 2 and entry["last_message"]["id"] == sent[1]["id"]
        assert await unread(api, bob, wid) == {
            "rooms": [{"room_id": rid, "unread_count": 2, "thread_unread": 0, "mention_count": 0}],
            "total": 2,
            "thread_unread": 0,
            "mentions": 0,
        }
        # The last message is shown as it is now: with its reactions.
        reacted = await b.request(
            "add_room_chat_reaction",
            {"room_id": rid, "message_id": sent[1]["id"], "reaction": ":+1:"},
        )
        assert reacted["status"] == "success", reacted
        entry = await room_list_entry(api, bob, wid, rid)
        assert entry["last_message"]["reactions"] == [
            {"reaction": ":+1:", "count": 1, "user_ids": [bob.id]}
        ]

        # Marking read: up to a seq, never backwards, clamped to the room's seq.
        moved = await mark(b, rid, sent[0]["seq"])
        assert moved == {
            "room_id": rid,
            "last_read_seq": sent[0]["seq"],
            "unread_count": 1,
            "thread_unread": 0,
            "mention_count": 0,
        }
        assert (await mark(b, rid, 1))["last_read_seq"] == sent[0]["seq"]
        top = await mark(b, rid, 10**6)
        room_seq = reacted["data"]["seq"]
        assert top == {
            "room_id": rid,
            "last_read_seq": room_seq,
            "unread_count": 0,
            "thread_unread": 0,
            "mention_count": 0,
        }
        # Mark as unread from a message on: back on purpose.
        back = await mark(b, rid, sent[1]["seq"], "mark_room_unread")
        assert back == {
            "room_id": rid,
            "last_read_seq": sent[1]["seq"] - 1,
            "unread_count": 1,
            "thread_unread": 0,
            "mention_count": 0,
        }
        entry = await room_list_entry(api, bob, wid, rid)
        assert (entry["last_read_seq"], entry["unread_count"]) == (sent[1]["seq"] - 1, 1)
    finally:
        await a.close()
        await b.close()


async def test_receipts_reach_the_room_and_devices_and_hide_on_opt_out(
    server: ServerProcess, api: Api
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    ws = await api.workspace(alice, bob)
    rid = (await api.room(alice, ws["id"]))["id"]
    a = await Ws.connect(server.ws_url, alice)
    b = await Ws.connect(server.ws_url, bob)
    b_phone = await Ws.connect(server.ws_url, bob)  # not joined to the room
    try:
        await a.join(rid)
        await b.join(rid)
        message = await a.say(rid, "read me")
        await mark(b, rid, message["seq"])
        receipt = await a.wait_for(lambda f: f.get("action") == READ)
        assert receipt["data"] == {"room_id": rid, "user_id": bob.id, "last_read_seq": 2}
        synced = await b_phone.wait_for(lambda f: f.get("action") == READ_UPDATED)
        assert synced["data"] == {
            "room_id": rid,
            "last_read_seq": 2,
            "unread_count": 0,
            "thread_unread": 0,
            "mention_count": 0,
        }
        readers = await api.call(
            "GET", f"/api/v1/room-chats/{rid}/messages/{message['id']}/readers", alice
        )
        assert [r["id"] for r in readers["readers"]] == [bob.id]

        # Opting out: no receipts, not listed as a reader; his own counts still work.
        me = await api.call("PATCH", "/api/v1/users/me", bob, json={"share_read_receipts": False})
        assert me["share_read_receipts"] is False
        later = await a.say(rid, "and me")
        assert (await mark(b, rid, later["seq"]))["unread_count"] == 0
        pong = await a.request("ping", {})
        assert pong["action"] == "pong"
        readers = await api.call(
            "GET", f"/api/v1/room-chats/{rid}/messages/{later['id']}/readers", alice
        )
        assert readers["readers"] == []
        assert not [
            f
            for f in a.received
            if f.get("action") == READ and f["data"]["last_read_seq"] == later["seq"]
        ]
    finally:
        for conn in (a, b, b_phone):
            await conn.close()


async def test_read_state_needs_membership_and_good_input(server: ServerProcess, api: Api) -> None:
    alice, bob, eve = (
        await api.register("alice"),
        await api.register("bob"),
        await api.register("eve"),
    )
    ws = await api.workspace(alice, bob)
    rid = (await api.room(alice, ws["id"]))["id"]
    message = None
    a = await Ws.connect(server.ws_url, alice)
    b = await Ws.connect(server.ws_url, bob)
    e = await Ws.connect(server.ws_url, eve)
    try:
        await a.join(rid)
        message = await a.say(rid, "secret")
        # bob is in the workspace but not the room; eve is in neither.
        for conn in (b, e):
            reply = await conn.request("mark_room_read", {"room_id": rid, "seq": 1})
            assert error_code(reply) == "forbidden"
        await api.call(
            "GET", f"/api/v1/room-chats/{rid}/messages/{message['id']}/readers", eve, 403
        )
        await api.call("GET", f"/api/v1/workspaces/{ws['id']}/unread", eve, 403)
        for payload in (
            {"room_id": rid},
            {"room_id": rid, "seq": -1},
            {"room_id": rid, "seq": "1"},
        ):
            reply = await a.request("mark_room_read", payload)
            assert error_code(reply) == "validation_error"
        entry = await room_list_entry(api, alice, ws["id"], rid)
        assert entry["last_read_seq"] == message["seq"]
        # bob's list shows the room without his read state: he is not a member.
        other = await room_list_entry(api, bob, ws["id"], rid)
        assert (other["unread_count"], other["last_message"]) == (None, None)
        await api.call("PATCH", "/api/v1/users/me", alice, 422, json={"share_read_receipts": "no"})
    finally:
        for conn in (a, b, e):
            await conn.close()


def activity(frame: Any) -> bool:
    return bool(frame.get("action") == "room_activity")


async def test_a_followed_workspace_reports_activity_in_rooms_not_joined(
    server: ServerProcess, api: Api
) -> None:
    alice, bob, eve = [await api.register(n) for n in ("alice", "bob", "eve")]
    ws = await api.workspace(alice, bob)
    wid = ws["id"]
    room = await api.room(alice, wid)
    other = await api.room(alice, wid)  # bob is no member of this one
    rid = room["id"]
    a = await Ws.connect(server.ws_url, alice)
    b = await Ws.connect(server.ws_url, bob)
    sidebar = await Ws.connect(server.ws_url, bob)  # bob's sidebar: follows, joins nothing
    e = await Ws.connect(server.ws_url, eve)
    try:
        await a.join(rid)
        await a.join(other["id"])
        await b.join(rid)  # makes bob a member
        await b.request("leave_room_chat", {"room_id": rid})
        followed = await sidebar.request("subscribe_workspace", {"workspace_id": wid})
        assert followed["data"] == {"workspace_id": wid}

        first = await a.say(rid, "one")
        got = (await sidebar.wait_for(activity))["data"]
        assert (got["room_id"], got["unread_count"]) == (rid, 1)
        assert got["seq"] == first["seq"] and got["last_message"]["id"] == first["id"]
        second = await a.say(rid, "two")
        got = (await sidebar.wait_for(lambda f: activity(f) and f["data"]["seq"] == second["seq"]))[
            "data"
        ]
        assert got["unread_count"] == 2 and got["last_message"]["message_text"] == "two"
        deleted = await a.request(
            "delete_room_chat_message", {"room_id": rid, "message_id": second["id"]}
        )
        got = (
            await sidebar.wait_for(
                lambda f: activity(f) and f["data"]["seq"] == deleted["data"]["seq"]
            )
        )["data"]
        assert got["unread_count"] == 1 and got["last_message"]["id"] == first["id"]
        # Marking read on another device: the sidebar connection hears it too.
        await mark(b, rid, deleted["data"]["seq"])
        synced = await sidebar.wait_for(lambda f: f.get("action") == READ_UPDATED)
        assert synced["data"]["unread_count"] == 0

        # Activity of a room bob is not a member of never reaches him.
        await a.say(other["id"], "not for bob")
        marker_msg = await a.say(rid, "for bob")
        await sidebar.wait_for(lambda f: activity(f) and f["data"]["seq"] == marker_msg["seq"])
        assert other["id"] not in {f["data"]["room_id"] for f in sidebar.received if activity(f)}

        # Outsiders are refused; bad input changes nothing; unsubscribing stops it.
        refused = await e.request("subscribe_workspace", {"workspace_id": wid})
        assert error_code(refused) == "forbidden"
        for payload in ({}, {"workspace_id": "1"}, {"workspace_id": 0.5}):
            reply = await sidebar.request("subscribe_workspace", payload)
            assert error_code(reply) == "validation_error"
        stopped = await sidebar.request("unsubscribe_workspace", {"workspace_id": wid})
        assert stopped["status"] == "success"
        again = await sidebar.request("unsubscribe_workspace", {"workspace_id": wid})
        assert error_code(again) == "bad_request"
        # A control follower gets the next activity; the same pass would have sent it
        # to the sidebar, whose ping reply comes after anything queued before it.
        control = await Ws.connect(server.ws_url, bob)
        try:
            await control.request("subscribe_workspace", {"workspace_id": wid})
            after = await a.say(rid, "after")
            await control.wait_for(lambda f: activity(f) and f["data"]["seq"] == after["seq"])
            await sidebar.request("ping", {})
            assert after["seq"] not in {f["data"]["seq"] for f in sidebar.received if activity(f)}
        finally:
            await control.close()
    finally:
        for conn in (a, b, sidebar, e):
            await conn.close()


async def test_receipts_are_coalesced_and_the_last_position_arrives(
    server: ServerProcess, api: Api
) -> None:
    """Five moves within the receipt interval (1 s): the room hears the first at once
    and the last when the interval ends, not all five."""
    alice, bob = await api.register("alice"), await api.register("bob")
    ws = await api.workspace(alice, bob)
    rid = (await api.room(alice, ws["id"]))["id"]
    a, b = await TracedWs.connect(server.ws_url, alice), await Ws.connect(server.ws_url, bob)
    try:
        await a.join(rid)
        await b.join(rid)
        sent = [await a.say(rid, f"m{n}") for n in range(5)]
        for message in sent:
            await mark(b, rid, message["seq"])
        last = sent[-1]["seq"]
        await a.wait_for(
            lambda f: f.get("action") == READ and f["data"]["last_read_seq"] == last, timeout=15
        )
        await a.request("ping", {})
        receipts = [f["data"] for f in a.arrivals if f.get("action") == READ]
        assert receipts[0]["last_read_seq"] == sent[0]["seq"]
        assert receipts[-1] == {"room_id": rid, "user_id": bob.id, "last_read_seq": last}
        assert len(receipts) < len(sent), receipts
    finally:
        await a.close()
        await b.close()
