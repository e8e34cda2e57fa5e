"""Catching up across instances with ``join_room_chat`` ``after_seq``.

A client is away while other users change the room (edits, deletes by the author and by
a moderator, reactions added and removed, members joining, leaving and removed, a
rename): its instance was SIGKILLed, or it dropped while the broker was down and the
changes waited in another instance's outbox. It reconnects to a surviving instance and
joins with the last seq it applied. What it is shown is checked as a client would use
it: the reply's ``events`` are exactly the seqs it missed, each once, in order, as they
were broadcast (and as ``GET .../events`` replays them); applied with the code for live
broadcasts they give the room REST shows now; and the live broadcasts go on at the
reply's ``seq + 1`` without a gap or a repeat. (The log shows each message as it is now:
a new message edited later is replayed with its edited text, ``as_now``.) With more
missed than a join reply holds (``has_more``), REST pages of the event log fill the
rest, and reply, pages and live broadcasts, repeats dropped, hold every seq exactly once.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.client import Account, Api
from tests.support.cluster import (
    Client,
    Cluster,
    cluster,
    ready,
    room_with,
    stored,
    until,
    until_ready,
)
from tests.support.kafka import Broker
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]

Event = dict[str, Any]  # {"action", "data"}: one durable broadcast, as replies and pages hold it
WAIT = 30.0  # for anything that crosses the bus
CATCH_UP_LIMIT = 5  # events in a join reply, in the has_more test
PAGE = 3  # events per GET .../events page, in the has_more test


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(broker, tmp_path, 2) as running:
        yield running


@pytest.fixture
def two_small_replies(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(broker, tmp_path, 2, catch_up_limit=str(CATCH_UP_LIMIT)) as running:
        yield running


# What a client was sent.


def broadcasts(client: Client, room_id: int, since: int = 0) -> list[Event]:
    """The room's durable broadcasts (those with a seq) among the client's frames from
    index ``since`` on, as {action, data}, in arrival order. Replies are not broadcasts."""
    return [
        {"action": f["action"], "data": f["data"]}
        for f in client.frames[since:]
        if "request_id" not in f
        and f.get("status") == "success"
        and isinstance(f.get("data"), dict)
        and f["data"].get("room_id") == room_id
        and "seq" in f["data"]
    ]


def seqs(events: list[Event]) -> list[int]:
    return [e["data"]["seq"] for e in events]


_NOW = ("message_text", "message_content", "edited_at", "deleted_at")


def as_now(broadcast: list[Event]) -> list[Event]:
    """Broadcasts as the event log replays them once they are all made: the events that
    show a message that a later one of them edited show its last version (the log
    keeps no earlier one). None of these tests replays a message deleted among them."""
    last = {
        e["data"]["message"]["id"]: e["data"]["message"]
        for e in broadcast
        if e["action"] == "room_chat_message_edited"
    }
    replayed: list[Event] = []
    for event in broadcast:
        data = copy.deepcopy(event["data"])
        shown = data if event["action"] == "new_room_chat_message" else data.get("message")
        if isinstance(shown, dict) and shown.get("id") in last:
            shown.update({key: last[shown["id"]][key] for key in _NOW})
        replayed.append({"action": event["action"], "data": data})
    return replayed


async def reached(client: Client, room_id: int, seq: int, since: int = 0) -> None:
    """Wait until the client was broadcast the room's event ``seq`` (or a later one)."""
    await client.wait(
        lambda: max(seqs(broadcasts(client, room_id, since)), default=0) >= seq,
        WAIT,
        f"room {room_id} seq {seq}",
    )


def what(event: Event) -> tuple[Any, ...]:
    """An event's action and what it says changed, to compare with what was done."""
    action, data = event["action"], event["data"]
    if action == "new_room_chat_message":
        return (action, data["message_text"])
    if action == "room_chat_message_edited":
        return (action, data["message"]["id"], data["message"]["message_text"])
    if action == "room_chat_message_deleted":
        return (action, data["message_id"], data["deleted_by"])
    if action in ("room_chat_reaction_added", "room_chat_reaction_removed"):
        return (action, data["message_id"], data["user_id"], data["reaction"])
    if action == "room_member_joined":
        return (action, data["user_id"])
    if action == "room_member_left":
        return (action, data["user_id"], data["removed_by"])
    if action == "room_chat_updated":
        return (action, data["room"]["name"])
    raise AssertionError(f"not a change this test makes: {event}")


# A client's view of the room, built only from what it was sent.


@dataclass
class View:
    """The room as a client knows it: a join reply (without ``after_seq``), then durable
    events applied one seq after the other, as the protocol says a client applies them."""

    room: dict[str, Any]
    seq: int
    messages: dict[int, dict[str, Any]]  # by id
    members: dict[int, dict[str, Any]]  # by user id: {joined_at, user}

    @classmethod
    def joined(cls, data: dict[str, Any], members: list[dict[str, Any]]) -> View:
        """From a join reply, and the member list read when nothing else changed."""
        return cls(
            room=dict(data["room"]),
            seq=data["seq"],
            messages={m["id"]: copy.deepcopy(m) for m in data["messages"]},
            members={
                m["user_id"]: {"joined_at": m["joined_at"], "user": m["user"]} for m in members
            },
        )

    def apply(self, event: Event) -> None:
        action, data = event["action"], copy.deepcopy(event["data"])
        assert data["seq"] == self.seq + 1, f"{action} seq {data['seq']} applied after {self.seq}"
        self.seq = data["seq"]
        if action == "new_room_chat_message":  # the guide's shape: nothing changed it yet
            self.messages[data["id"]] = {
                **data,
                "edited_at": None,
                "deleted_at": None,
                "reactions": [],
            }
        elif action == "room_chat_message_edited":
            self.messages[data["message"]["id"]] = data["message"]
        elif action == "room_chat_message_deleted":  # a tombstone
            self.messages[data["message_id"]].update(
                message_text=None, message_content=None, reactions=[], deleted_at="deleted"
            )
        elif action in ("room_chat_reaction_added", "room_chat_reaction_removed"):
            self._react(data, added=action == "room_chat_reaction_added")
        elif action == "room_member_joined":
            self.members[data["user_id"]] = {"joined_at": data["joined_at"], "user": data["user"]}
        elif action == "room_member_left":
            del self.members[data["user_id"]]
        elif action == "room_chat_updated":
            self.room = data["room"]
        else:
            raise AssertionError(f"not a change this test makes: {event}")

    def _react(self, data: dict[str, Any], added: bool) -> None:
        reactions: list[dict[str, Any]] = self.messages[data["message_id"]]["reactions"]
        entry = next((r for r in reactions if r["reaction"] == data["reaction"]), None)
        if added and entry is None:
            reactions.append(
                {"reaction": data["reaction"], "count": 1, "user_ids": [data["user_id"]]}
            )
        elif added:
            assert entry is not None and data["user_id"] not in entry["user_ids"]
            entry["count"] += 1
            entry["user_ids"].append(data["user_id"])
        else:
            assert entry is not None and data["user_id"] in entry["user_ids"], data
            entry["count"] -= 1
            entry["user_ids"].remove(data["user_id"])
            if entry["count"] == 0:
                reactions.remove(entry)


def message_state(message: dict[str, Any]) -> dict[str, Any]:
    """What a client shows of a message (a tombstone's deleted_at: only that it is set;
    the delete event does not carry the time)."""
    keys = ("id", "seq", "user_id", "message_text", "message_content", "edited_at", "reactions")
    return {**{k: message[k] for k in keys}, "deleted": message["deleted_at"] is not None}


def room_state(room: dict[str, Any]) -> dict[str, Any]:
    """The room; its link_join by path (each instance writes its own base URL)."""
    link = room["link_join"]
    return {**room, "link_join": urlsplit(link).path if link else None}


async def members(api: Api, account: Account, room_id: int) -> list[dict[str, Any]]:
    return list(await api.call("GET", f"/api/v1/room-users/room/{room_id}", account))


async def assert_matches_rest(view: View, api: Api, account: Account, room_id: int) -> None:
    """The client's view is the room as REST shows it now: messages as they are (edits,
    tombstones, reactions counted), the member list, the room."""
    now = await stored(api, account, room_id)
    shown = sorted(view.messages.values(), key=lambda m: m["seq"])
    assert [message_state(m) for m in shown] == [message_state(m) for m in now]
    assert view.members == {
        m["user_id"]: {"joined_at": m["joined_at"], "user": m["user"]}
        for m in await members(api, account, room_id)
    }
    room = await api.call("GET", f"/api/v1/room-chats/{room_id}", account)
    assert room_state(view.room) == room_state(room)


async def events_page(
    api: Api, account: Account, room_id: int, after_seq: int, limit: int = 100
) -> dict[str, Any]:
    path = f"/api/v1/room-chats/{room_id}/events"
    params = {"after_seq": after_seq, "limit": limit}
    return dict(await api.call("GET", path, account, params=params))


# Changes, made as users make them.


async def change(client: Client, action: str, room_id: int, message_id: int, **payload: Any) -> Any:
    """Edit, delete or react; the reply's data (it changed something, so it has a seq)."""
    reply = await client.request(action, {"room_id": room_id, "message_id": message_id, **payload})
    assert reply["status"] == "success" and reply["data"]["changed"] is True, reply
    return reply["data"]


@dataclass
class Cast:
    """A room's people. alice created the workspace and the room (the moderator); bob is
    the client that goes away; dave joins and frank is added and removed while he is away;
    erin, added before, leaves meanwhile."""

    alice: Account
    bob: Account
    carol: Account
    dave: Account
    erin: Account
    frank: Account


async def cast_in_a_room(api: Api) -> tuple[int, Cast]:
    room, accounts = await room_with(api, 6)
    return room["id"], Cast(*accounts)


async def before(
    api: Api, room_id: int, cast: Cast, alice: Client, carol: Client, bob: Client
) -> tuple[dict[str, int], int]:
    """What there is before bob goes away: erin added, four messages (one of them bob's),
    reactions (one added and removed again), all seen live by bob. The messages by name,
    and the room's seq after it all."""
    path = f"/api/v1/room-users/room/{room_id}"
    await api.call("POST", path, cast.alice, 201, json={"user_id": cast.erin.id})
    ids = {
        "edit": (await carol.say(room_id, "edit me"))["id"],
        "own": (await carol.say(room_id, "carol deletes this"))["id"],
        "bobs": (await bob.say(room_id, "alice deletes this"))["id"],
        "react": (await carol.say(room_id, "react to this"))["id"],
    }
    await change(carol, "add_room_chat_reaction", room_id, ids["bobs"], reaction="👀")
    await change(carol, "add_room_chat_reaction", room_id, ids["react"], reaction="👍")
    await change(alice, "add_room_chat_reaction", room_id, ids["react"], reaction="👍")
    last = await change(alice, "remove_room_chat_reaction", room_id, ids["react"], reaction="👍")
    return ids, last["seq"]


async def while_away(
    instance: ServerProcess,
    api: Api,
    room_id: int,
    cast: Cast,
    alice: Client,
    carol: Client,
    ids: dict[str, int],
) -> tuple[Client, list[tuple[Any, ...]]]:
    """Every kind of change, through ``instance`` (alice and carol are connected to it):
    edits, a delete by the author and one by the moderator, reactions added and removed,
    a new message edited, dave joining, frank added and removed, erin leaving, a rename.
    dave's client (joined), and each change as ``what`` tells it, in the order made."""
    a, c = cast.alice.id, cast.carol.id
    done: list[tuple[Any, ...]] = []
    await change(carol, "edit_room_chat_message", room_id, ids["edit"], message_text="edited")
    done.append(("room_chat_message_edited", ids["edit"], "edited"))
    await change(carol, "delete_room_chat_message", room_id, ids["own"])
    done.append(("room_chat_message_deleted", ids["own"], c))
    await change(alice, "delete_room_chat_message", room_id, ids["bobs"])  # the moderator
    done.append(("room_chat_message_deleted", ids["bobs"], a))
    await change(alice, "add_room_chat_reaction", room_id, ids["react"], reaction="🎉")
    done.append(("room_chat_reaction_added", ids["react"], a, "🎉"))
    await change(carol, "remove_room_chat_reaction", room_id, ids["react"], reaction="👍")
    done.append(("room_chat_reaction_removed", ids["react"], c, "👍"))
    new = await carol.say(room_id, "while bob was away")
    done.append(("new_room_chat_message", "and edited"))  # replayed as it is now
    await change(carol, "edit_room_chat_message", room_id, new["id"], message_text="and edited")
    done.append(("room_chat_message_edited", new["id"], "and edited"))
    await change(alice, "add_room_chat_reaction", room_id, new["id"], reaction="👍")
    done.append(("room_chat_reaction_added", new["id"], a, "👍"))
    dave = await Client(cast.dave, "dave").connect(instance)
    await dave.join(room_id)  # a workspace member new to the room
    done.append(("room_member_joined", cast.dave.id))
    users = f"/api/v1/room-users/room/{room_id}"
    await api.call("POST", users, cast.alice, 201, json={"user_id": cast.frank.id})
    done.append(("room_member_joined", cast.frank.id))
    await api.call("DELETE", f"{users}/users/{cast.erin.id}", cast.erin)  # leaves
    done.append(("room_member_left", cast.erin.id, cast.erin.id))
    await api.call("DELETE", f"{users}/users/{cast.frank.id}", cast.alice)  # removed
    done.append(("room_member_left", cast.frank.id, a))
    path = f"/api/v1/room-chats/{room_id}"
    await api.call("PATCH", path, cast.alice, json={"name": "renamed while bob was away"})
    done.append(("room_chat_updated", "renamed while bob was away"))
    return dave, done


def assert_caught_up(data: dict[str, Any], after_seq: int, done: list[tuple[Any, ...]]) -> None:
    """A complete catch-up reply: every seq after ``after_seq`` once, in order, up to the
    reply's seq, and they are the changes made."""
    assert "messages" not in data
    assert data["has_more"] is False
    assert seqs(data["events"]) == list(range(after_seq + 1, data["seq"] + 1))
    assert [what(e) for e in data["events"]] == done


async def replace(running: Cluster, old: ServerProcess) -> ServerProcess:
    """A new instance in a killed one's place, ready: its settings, with a port, data
    directory and instance id of its own, as a restarted process gets. The cluster stops
    it with the others."""
    new = ServerProcess(running.database_url, old.data_dir.with_name(f"{old.data_dir.name}-2"))
    own = ("ROOMCHAT_PORT", "ROOMCHAT_PUBLIC_BASE_URL", "ROOMCHAT_DATA_DIR")
    new.env = {
        **old.env,
        **{key: new.env[key] for key in own},
        "ROOMCHAT_INSTANCE_ID": f"{old.env['ROOMCHAT_INSTANCE_ID']}-2",
    }
    running.instances.append(new)
    await asyncio.to_thread(new.start)
    await until_ready(new)
    return new


async def bus_down(instance: ServerProcess) -> bool:
    status, report = await ready(instance)
    return status == 503 and report["checks"]["bus"]["ok"] is False


# The tests.


async def test_instance_killed_its_client_catches_up_on_the_other_with_every_change_once(
    two: Cluster,
) -> None:
    """bob on A has applied the room up to S; A is SIGKILLed; every kind of change is
    made through B. bob reconnects to B with after_seq=S: the reply holds S+1..seq, each
    once, in order, exactly as carol on B was broadcast them and as GET .../events
    replays them; applied, they give what REST shows; a message from A's replacement and
    a reaction through B then reach bob at seq+1 and seq+2, once each."""
    a, b = two.instances
    api = Api(b.base_url)
    try:
        rid, cast = await cast_in_a_room(api)
        alice = await Client(cast.alice, "alice@B").connect(b)
        carol = await Client(cast.carol, "carol@B").connect(b)
        bob = await Client(cast.bob, "bob@A").connect(a)
        for client in (alice, carol):
            await client.join(rid)
        view = View.joined((await bob.join(rid))["data"], await members(api, cast.bob, rid))
        ids, last = await before(api, rid, cast, alice, carol, bob)
        await reached(bob, rid, last)
        for event in broadcasts(bob, rid):
            if event["data"]["seq"] > view.seq:
                view.apply(event)
        after_seq = view.seq
        assert after_seq == last

        await asyncio.to_thread(a.kill)
        await bob.wait(lambda: not bob.connected, WAIT, "dropped by the killed instance")
        dave, done = await while_away(b, api, rid, cast, alice, carol, ids)

        since = len(bob.frames)
        await bob.connect(b)
        data = (await bob.join(rid, after_seq=after_seq))["data"]
        assert_caught_up(data, after_seq, done)
        events = data["events"]
        await reached(carol, rid, data["seq"])
        assert as_now([e for e in broadcasts(carol, rid) if e["data"]["seq"] > after_seq]) == events
        assert await events_page(api, cast.bob, rid, after_seq) == {
            "events": events,
            "has_more": False,
        }
        for event in events:
            view.apply(event)
        await assert_matches_rest(view, api, cast.bob, rid)

        # Live again: from A's replacement and from B, once each, right after the reply.
        alice_again = await Client(cast.alice, "alice@A2").connect(await replace(two, a))
        await alice_again.join(rid)  # a member already: no event
        said = await alice_again.say(rid, "after the kill")
        assert said["seq"] == data["seq"] + 1
        await change(carol, "add_room_chat_reaction", rid, said["id"], reaction="👋")
        await reached(bob, rid, data["seq"] + 2, since)
        await bob.request("ping", {})  # a repeat would have come before its pong
        live = broadcasts(bob, rid, since)
        assert seqs(live) == [data["seq"] + 1, data["seq"] + 2]
        assert [what(e) for e in live] == [
            ("new_room_chat_message", "after the kill"),
            ("room_chat_reaction_added", said["id"], cast.carol.id, "👋"),
        ]
        for event in live:
            view.apply(event)
        await assert_matches_rest(view, api, cast.bob, rid)
        for client in (alice, carol, bob, dave, alice_again):
            await client.disconnect()
    finally:
        await api.aclose()


async def test_broker_down_changes_reach_a_connected_client_and_a_reconnecting_one_once(
    two: Cluster,
) -> None:
    """The broker stops; bob, on B, drops; every kind of change is made through A (they
    wait in A's outbox). The broker comes back. gina, who stayed connected to B, is
    broadcast every one of them once, in order; bob reconnects to B with after_seq=S and
    gets them in the reply, the same events, each once; a message from A then reaches
    both at seq+1, and no seq reaches bob twice across reply and broadcasts."""
    two.broker.require_restartable()
    a, b = two.instances
    api = Api(a.base_url)
    try:
        rid, cast = await cast_in_a_room(api)
        gina_account = await api.register("gina")
        ws = (await api.call("GET", f"/api/v1/room-chats/{rid}", cast.alice))["workspace_id"]
        await api.add_member(cast.alice, ws, gina_account)
        alice = await Client(cast.alice, "alice@A").connect(a)
        carol = await Client(cast.carol, "carol@A").connect(a)
        gina = await Client(gina_account, "gina@B").connect(b)
        bob = await Client(cast.bob, "bob@B").connect(b)
        for client in (alice, carol, gina):
            await client.join(rid)
        view = View.joined((await bob.join(rid))["data"], await members(api, cast.bob, rid))
        ids, last = await before(api, rid, cast, alice, carol, bob)
        await reached(bob, rid, last)
        for event in broadcasts(bob, rid):
            if event["data"]["seq"] > view.seq:
                view.apply(event)
        after_seq = view.seq
        assert after_seq == last

        await asyncio.to_thread(two.broker.stop)
        for instance in (a, b):
            await until(lambda i=instance: bus_down(i), WAIT, "/readyz reports the bus down")  # type: ignore[misc]
        await bob.disconnect()
        dave, done = await while_away(a, api, rid, cast, alice, carol, ids)
        _, report = await ready(a)
        assert report["checks"]["bus"]["outbox_unpublished"] > 0  # the broker is still away

        await asyncio.to_thread(two.broker.start)
        for instance in (a, b):
            await until_ready(instance, WAIT)
        since = len(bob.frames)
        await bob.connect(b)
        data = (await bob.join(rid, after_seq=after_seq))["data"]
        assert_caught_up(data, after_seq, done)
        events = data["events"]
        assert await events_page(api, cast.bob, rid, after_seq) == {
            "events": events,
            "has_more": False,
        }
        for event in events:
            view.apply(event)
        await assert_matches_rest(view, api, cast.bob, rid)

        said = await alice.say(rid, "after the outage")
        assert said["seq"] == data["seq"] + 1
        await reached(bob, rid, said["seq"], since)
        await reached(gina, rid, said["seq"])
        for client in (bob, gina):
            await client.request("ping", {})  # a repeat would have come before its pong
        live = broadcasts(bob, rid, since)
        assert seqs(live) == [said["seq"]]
        got = seqs(events) + seqs(live)
        assert len(got) == len(set(got)) and got == list(range(after_seq + 1, said["seq"] + 1))
        view.apply(live[0])
        await assert_matches_rest(view, api, cast.bob, rid)
        # gina, connected throughout, was broadcast the same events, once each, in order.
        stayed = [e for e in broadcasts(gina, rid) if e["data"]["seq"] > after_seq]
        assert as_now(stayed) == [*events, *live]
        for client in (alice, carol, gina, bob, dave):
            await client.disconnect()
    finally:
        await api.aclose()


async def test_more_missed_than_a_reply_holds_pages_and_broadcasts_give_each_seq_once(
    two_small_replies: Cluster,
) -> None:
    """Join replies hold 5 events. bob, on B, is away while alice makes 12 changes
    through A. bob reconnects to B with after_seq=S: 5 events, has_more, seq = the last
    one's. While he pages GET .../events (through A, 3 at a time) from that seq until
    has_more is false, alice makes 3 more changes, which reach him live. Reply, pages and
    broadcasts, repeats dropped, hold each seq from S+1 on exactly once, a repeat is the
    same event, and applied in order they give what REST shows."""
    a, b = two_small_replies.instances
    api = Api(a.base_url)
    try:
        room, (alice_account, bob_account) = await room_with(api, 2)
        rid = room["id"]
        alice = await Client(alice_account, "alice@A").connect(a)
        bob = await Client(bob_account, "bob@B").connect(b)
        await alice.join(rid)
        view = View.joined((await bob.join(rid))["data"], await members(api, bob_account, rid))
        last = await alice.say(rid, "before")
        await reached(bob, rid, last["seq"])
        view.apply(broadcasts(bob, rid)[-1])
        after_seq = view.seq
        await bob.disconnect()

        done: list[tuple[Any, ...]] = []
        said = [await alice.say(rid, f"missed {n}") for n in range(6)]
        # Replayed as they are now: the first three are edited below.
        done += [
            ("new_room_chat_message", f"missed {n}" + (", edited" if n < 3 else ""))
            for n in range(6)
        ]
        for message in said[:3]:
            text = f"{message['message_text']}, edited"
            await change(alice, "edit_room_chat_message", rid, message["id"], message_text=text)
            done.append(("room_chat_message_edited", message["id"], text))
        for message in said[3:]:
            await change(alice, "add_room_chat_reaction", rid, message["id"], reaction="👍")
            done.append(("room_chat_reaction_added", message["id"], alice_account.id, "👍"))

        since = len(bob.frames)
        await bob.connect(b)
        data = (await bob.join(rid, after_seq=after_seq))["data"]
        assert data["has_more"] is True
        assert seqs(data["events"]) == list(range(after_seq + 1, after_seq + CATCH_UP_LIMIT + 1))
        assert data["seq"] == data["events"][-1]["data"]["seq"]

        pages: list[dict[str, Any]] = []
        live_seqs: list[int] = []
        cursor = data["seq"]
        while True:
            page = await events_page(api, bob_account, rid, cursor, PAGE)
            pages.append(page)
            assert seqs(page["events"]) == list(range(cursor + 1, cursor + len(page["events"]) + 1))
            if len(live_seqs) < 3:  # a live change while bob pages
                live_seqs.append((await alice.say(rid, f"live {len(live_seqs)}"))["seq"])
            if not page["has_more"]:
                break
            assert len(page["events"]) == PAGE
            cursor = page["events"][-1]["data"]["seq"]
        assert len(pages) >= 3  # the pages did interleave with the live changes
        final = live_seqs[-1]
        await reached(bob, rid, final, since)
        await bob.request("ping", {})  # a repeat would have come before its pong
        live = broadcasts(bob, rid, since)
        # Live broadcasts go on from the room's live point, in order, never twice.
        assert seqs(live) == sorted(set(seqs(live)))
        assert seqs(live)[0] > data["seq"] and set(live_seqs) <= set(seqs(live))

        applied: dict[int, Event] = {}
        for event in [*data["events"], *(e for p in pages for e in p["events"]), *live]:
            seq = event["data"]["seq"]
            assert applied.setdefault(seq, event) == event, f"seq {seq} differs where repeated"
        assert sorted(applied) == list(range(after_seq + 1, final + 1))
        missed = [applied[seq] for seq in range(after_seq + 1, after_seq + len(done) + 1)]
        assert [what(e) for e in missed] == done
        assert final == after_seq + len(done) + 3
        for seq in sorted(applied):
            view.apply(applied[seq])
        await assert_matches_rest(view, api, bob_account, rid)
        for client in (alice, bob):
            await client.disconnect()
    finally:
        await api.aclose()
