"""A join's history is what the database holds, also when it comes from memory: after
every kind of room event, a fresh join shows the messages REST reads from the
database, field for field, on the instance that made the change and on another."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import Account, Api, TracedWs, Ws, error_code, history
from tests.support.cluster import Client, Cluster, cluster, room_with
from tests.support.kafka import Broker
from tests.support.metrics import scrape, value
from tests.support.server import ServerProcess

ROOMS = "/api/v1/room-chats"


async def fresh_join(server: ServerProcess, account: Account, room_id: int) -> dict[str, Any]:
    conn = await Ws.connect(server.ws_url, account)
    try:
        return (await conn.join(room_id))["data"]  # type: ignore[no-any-return]
    finally:
        await conn.close()


async def as_rest_reads_it(api: Api, account: Account, joined: dict[str, Any]) -> None:
    page = await history(api, account, joined["room"]["id"])
    assert joined["messages"] == page["messages"]
    assert joined["has_more"] == page["has_more"]


async def heard(ws: TracedWs, room_id: int, seq: int) -> None:
    """Until the connection got the room's broadcast of ``seq`` (any kind)."""
    await ws.wait_for(
        lambda f: (
            "request_id" not in f
            and isinstance(f.get("data"), dict)
            and f["data"].get("room_id") == room_id
            and f["data"].get("seq") == seq
        )
    )


def served_from(server: ServerProcess) -> dict[str, float]:
    """roomchat_join_history_total by source, from the server's /metrics."""
    samples = scrape(server)
    return {
        source: value(samples, "roomchat_join_history_total", source=source)
        for source in ("memory", "database")
    }


async def ok(ws: Ws, action: str, **payload: Any) -> dict[str, Any]:
    reply = await ws.request(action, payload)
    assert reply["status"] == "success", reply
    return reply["data"]  # type: ignore[no-any-return]


async def test_a_fresh_join_shows_each_change_as_the_database_holds_it(
    server: ServerProcess, api: Api
) -> None:
    owner, author, other = [await api.register(n) for n in ("owner", "author", "other")]
    ws = await api.workspace(owner, author, other)
    room = await api.room(owner, ws["id"])
    rid = room["id"]
    watcher = await TracedWs.connect(server.ws_url, author)  # keeps the room open here
    try:
        await watcher.join(rid)
        first = await watcher.say(rid, "first", message_content="rich")
        second = await watcher.say(rid, "second")
        joined = await fresh_join(server, other, rid)  # other's first join: a new member
        await as_rest_reads_it(api, other, joined)

        async def check(seq: int) -> dict[str, Any]:
            await heard(watcher, rid, seq)
            joined = await fresh_join(server, other, rid)
            assert joined["seq"] == seq
            await as_rest_reads_it(api, other, joined)
            return {m["id"]: m for m in joined["messages"]}

        edit = await ok(
            watcher,
            "edit_room_chat_message",
            room_id=rid,
            message_id=first["id"],
            message_text="first, édité",
        )
        before = served_from(server)
        shown = await check(edit["seq"])
        # That join was answered from memory, not the database: the edit updated it.
        assert served_from(server)["memory"] == before["memory"] + 1
        assert served_from(server)["database"] == before["database"]
        assert shown[first["id"]]["message_text"] == "first, édité"
        assert shown[first["id"]]["edited_at"] is not None

        react = {"room_id": rid, "message_id": second["id"], "reaction": "👍"}
        shown = await check((await ok(watcher, "add_room_chat_reaction", **react))["seq"])
        assert shown[second["id"]]["reactions"] == [
            {"reaction": "👍", "count": 1, "user_ids": [author.id]}
        ]
        shown = await check((await ok(watcher, "remove_room_chat_reaction", **react))["seq"])
        assert shown[second["id"]]["reactions"] == []

        deleted = await ok(watcher, "delete_room_chat_message", room_id=rid, message_id=first["id"])
        shown = await check(deleted["seq"])
        assert shown[first["id"]]["message_text"] is None
        assert shown[first["id"]]["deleted_at"] is not None

        third = await watcher.say(rid, "third")
        shown = await check(third["seq"])
        assert shown[third["id"]]["message_text"] == "third"

        edit = await ok(
            watcher, "edit_room_chat_message", room_id=rid, message_id=third["id"], message_text="3"
        )
        await check(edit["seq"])

        renamed = await api.call("PATCH", f"{ROOMS}/{rid}", owner, json={"name": "renamed"})
        assert renamed["name"] == "renamed"
        last = (await fresh_join(server, owner, rid))["seq"]
        await heard(watcher, rid, last)
        joined = await fresh_join(server, other, rid)
        assert joined["room"]["name"] == "renamed" and joined["seq"] == last
        await as_rest_reads_it(api, other, joined)

        await api.call("DELETE", f"{ROOMS}/{rid}", owner)
        await heard(watcher, rid, last + 1)
        conn = await Ws.connect(server.ws_url, other)
        try:
            reply = await conn.request("join_room_chat", {"room_id": rid})
        finally:
            await conn.close()
        assert error_code(reply) == "not_found"
    finally:
        await watcher.close()


async def test_sixty_messages_then_edits_of_the_oldest_shown_and_of_older_ones(
    server: ServerProcess, api: Api
) -> None:
    alice = await api.register("alice")
    ws = await api.workspace(alice)
    rid = (await api.room(alice, ws["id"]))["id"]
    conn = await TracedWs.connect(server.ws_url, alice)
    try:
        await conn.join(rid)
        sent = [await conn.say(rid, f"m{n}") for n in range(60)]
        joined = await fresh_join(server, alice, rid)
        assert [m["seq"] for m in joined["messages"]] == [m["seq"] for m in sent[10:]]
        # Older than what a join shows, then the oldest it shows.
        for target in (sent[5], sent[10]):
            edit = await ok(
                conn,
                "edit_room_chat_message",
                room_id=rid,
                message_id=target["id"],
                message_text="e",
            )
            await heard(conn, rid, edit["seq"])
            joined = await fresh_join(server, alice, rid)
            assert joined["seq"] == edit["seq"] and joined["has_more"] is True
            await as_rest_reads_it(api, alice, joined)
        assert joined["messages"][0]["message_text"] == "e"
    finally:
        await conn.close()


# Two instances: a change made through A is in a join on B once B broadcast it.


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(broker, tmp_path, 2) as running:
        yield running


def broadcast(client: Client, room_id: int, seq: int) -> bool:
    return any(
        "request_id" not in f
        and isinstance(f.get("data"), dict)
        and f["data"].get("room_id") == room_id
        and f["data"].get("seq") == seq
        for f in client.frames
    )


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.kafka
async def test_a_change_made_on_one_instance_is_in_a_join_on_the_other(two: Cluster) -> None:
    a_instance, b_instance = two.instances
    api = Api(a_instance.base_url)
    try:
        room, (maker, watcher_account, joiner_account) = await room_with(api, 3)
        rid = room["id"]
        on_a = await Client(maker, "a").connect(a_instance)
        on_b = await Client(watcher_account, "b").connect(b_instance)
        await on_a.join(rid)
        await on_b.join(rid)  # B keeps the room open and hears its events
        kept = await on_a.say(rid, "kept")
        await on_b.wait(lambda: broadcast(on_b, rid, kept["seq"]), 30, "the message on B")

        async def join_on_b() -> dict[str, Any]:
            joiner = await Client(joiner_account, "j").connect(b_instance)
            try:
                return (await joiner.join(rid))["data"]  # type: ignore[no-any-return]
            finally:
                await joiner.disconnect()

        await as_rest_reads_it(api, joiner_account, await join_on_b())  # B fills its cache
        steps: list[tuple[str, dict[str, Any]]] = [
            ("edit_room_chat_message", {"message_id": kept["id"], "message_text": "kept, edited"}),
            ("add_room_chat_reaction", {"message_id": kept["id"], "reaction": "🎉"}),
            ("send_room_chat_message", {"message_text": "newer"}),
            ("edit_room_chat_message", {"message_id": kept["id"], "message_text": "again"}),
            ("delete_room_chat_message", {"message_id": kept["id"]}),
        ]
        for action, payload in steps:
            reply = await on_a.request(action, {"room_id": rid, **payload})
            assert reply["status"] == "success", reply
            seq = reply["data"]["seq"]
            await on_b.wait(lambda s=seq: broadcast(on_b, rid, s), 30, f"{action} on B")  # type: ignore[misc]
            joined = await join_on_b()
            assert joined["seq"] == seq
            await as_rest_reads_it(api, joiner_account, joined)
            if action == "edit_room_chat_message":
                shown = {m["id"]: m for m in joined["messages"]}
                assert shown[kept["id"]]["message_text"] == payload["message_text"]
        await on_a.disconnect()
        await on_b.disconnect()
    finally:
        await api.aclose()
