"""Revision 0011 upgrades a database with messages and events in it: the rows keep their
strings as they were stored (``content_is_json`` false), and the event log is brought
to the one message object, byte for byte what the live code writes now: new messages
with ``edited_at``/``deleted_at``/``reactions``, edits with ``message_id``, deletes with
their tombstone, reactions with the message after them (its reactions replayed from
the log: re-given, given up by their first giver, more than twenty givers)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import bindparam, select, update

from roomchat import jsoncodec
from roomchat.domain.kinds import (
    MESSAGE_DELETED,
    MESSAGE_EDITED,
    NEW_MESSAGE,
    REACTION_ADDED,
    REACTION_REMOVED,
)
from roomchat.domain.mentions import Mentions
from roomchat.domain.message_changes import MessageChanges
from roomchat.domain.messages import MessageLimits, MessageService
from roomchat.domain.throttle import LoginThrottle
from roomchat.domain.users import UserService
from roomchat.metrics import Metrics
from roomchat.store import Store
from roomchat.store.migrate import alembic_config, upgrade
from roomchat.store.recorder import Recorder
from roomchat.store.tables import messages, room_events
from tests.support.databases import database_url
from tests.unit.conftest import Domain, cheap_hasher, room_service, workspace_service
from tests.unit.test_domain import join_workspace

Log = list[tuple[int, int, str, bytes, int | None]]
CROWD = 22  # givers of one reaction: more than the 20 a message object lists
SHOWING = {NEW_MESSAGE, MESSAGE_EDITED, MESSAGE_DELETED, REACTION_ADDED, REACTION_REMOVED}


async def _domain(url: str) -> tuple[Domain, MessageChanges]:
    store = Store.connect(url)
    recorder = Recorder(store, None, "unit")
    workspaces = workspace_service(store, recorder)
    rooms = room_service(store, recorder, workspaces)
    sends = MessageService(
        store,
        rooms,
        recorder,
        MessageLimits(),
        metrics=Metrics("unit"),
        mentions=Mentions(store, "unit"),
    )
    sends.start()
    # More registrations than the default limit allows one address: 25 users here.
    users = UserService(
        store, LoginThrottle("100/minute", "100/minute", "100/hour"), cheap_hasher()
    )
    domain = Domain(store, users, workspaces, rooms, sends, recorder)
    return domain, MessageChanges(
        rooms, recorder, MessageLimits(), mentions=Mentions(store, "unit")
    )


async def _close(domain: Domain) -> None:
    await domain.messages.close()
    await domain.store.close()


async def _live_history(url: str) -> int:
    """A room's life as the live code records it (string contents only: revision 0010
    had no other); its id."""
    domain, changes = await _domain(url)
    try:
        ann, bob, cy = [await domain.user(n) for n in ("ann", "bob", "cy")]
        crowd = [await domain.user(f"c{n}") for n in range(CROWD)]
        ws = await domain.workspaces.create(ann, "w")
        room = await domain.rooms.create(ann, ws.id, "r", None)
        for user in (bob, cy, *crowd):
            await join_workspace(domain, ann, ws.id, user)
            await domain.rooms.join(user, room.id, None)
        rid = room.id

        async def say(user: Any, text: str, content: str | None = None) -> int:
            return (await domain.messages.send(user, rid, text, content, None)).message.id

        await say(cy, "json-looking", '{"k": 1}')  # a string, whatever it looks like
        first = await say(ann, "hello", "greeting.txt")
        await changes.add_reaction(bob, rid, first, "👍")
        await changes.add_reaction(cy, rid, first, "👍")
        await changes.add_reaction(ann, rid, first, "🎉")
        await changes.remove_reaction(bob, rid, first, "👍")  # its first giver goes:
        await changes.add_reaction(bob, rid, first, "👍")  # 👍 now dates from cy
        await changes.edit(ann, rid, first, "hello, edited", "attachment", keep_content=False)
        await changes.add_reaction(cy, rid, first, "👀")
        for user in crowd:
            await changes.add_reaction(user, rid, first, ":crowd:")
        await changes.remove_reaction(crowd[0], rid, first, ":crowd:")
        gone = await say(bob, "to delete", "file.pdf")
        await changes.add_reaction(ann, rid, gone, "😀")
        await changes.edit(bob, rid, gone, "to delete, edited", None, keep_content=True)
        await changes.add_reaction(cy, rid, gone, "😀")
        await changes.delete(bob, rid, gone)
        await say(cy, "plain")
        await changes.remove_reaction(cy, rid, first, "👍")
        return rid
    finally:
        await _close(domain)


async def _log(url: str) -> Log:
    store = Store.connect(url)
    try:
        async with store.engine.connect() as conn:
            query = select(
                room_events.c.room_id,
                room_events.c.seq,
                room_events.c.action,
                room_events.c.data,
                room_events.c.message_id,
            ).order_by(room_events.c.room_id, room_events.c.seq)
            return [(r, s, a, bytes(d), m) for r, s, a, d, m in (await conn.execute(query)).all()]
    finally:
        await store.close()


def _as_0010_wrote_it(action: str, data: bytes) -> tuple[bytes, bool]:
    """The event in the shape revision 0010's code (and 0009's rewriting) left it, and
    whether its ``message_id`` was set then (edits only)."""
    fields = jsoncodec.loads(data)
    if action == NEW_MESSAGE:
        del fields["reactions"]
        if fields["edited_at"] is None and fields["deleted_at"] is None:
            del fields["edited_at"], fields["deleted_at"]  # rewritten only once changed
    elif action == MESSAGE_EDITED:
        del fields["message_id"]
        return jsoncodec.dumps(fields), True
    elif action in (MESSAGE_DELETED, REACTION_ADDED, REACTION_REMOVED):
        del fields["message"]
    return jsoncodec.dumps(fields), False


async def _age(url: str, log: Log) -> None:
    store = Store.connect(url)
    at = (room_events.c.room_id == bindparam("r_id"), room_events.c.seq == bindparam("r_seq"))
    aged = (
        update(room_events)
        .where(*at)
        .values(data=bindparam("r_data"), message_id=bindparam("r_message"))
    )
    rows = []
    for room_id, seq, action, data, message_id in log:
        old, indexed = _as_0010_wrote_it(action, data)
        rows.append(
            {
                "r_id": room_id,
                "r_seq": seq,
                "r_data": old,
                "r_message": message_id if indexed else None,
            }
        )
    try:
        async with store.engine.begin() as conn:
            await conn.execute(aged, rows)
    finally:
        await store.close()


async def _contents(url: str, room_id: int) -> dict[str | None, Any]:
    """Each message's content by its text, as the live code reads it; and two more sent
    after the upgrade: an object and an empty string, which come back as sent."""
    domain, _ = await _domain(url)
    try:
        async with domain.store.engine.connect() as conn:
            flags = set((await conn.execute(select(messages.c.content_is_json))).scalars())
        assert flags == {False}  # the rows of before: strings
        page = await domain.store.messages.latest(room_id, 100)
        author = page.messages[0].user
        rich: dict[str, Any] = {"type": "image", "size": [640, 480], "alt": "é \u2028", "n": 1.5}
        await domain.messages.send(author, room_id, "rich", rich, None)
        await domain.messages.send(author, room_id, "empty", "", None)
        page = await domain.store.messages.latest(room_id, 100)
        return {m.message_text: m.message_content for m in page.messages}
    finally:
        await _close(domain)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0011_keeps_contents_and_brings_the_log_to_one_message_object(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url)
        room_id = asyncio.run(_live_history(url))
        written = asyncio.run(_log(url))
        asyncio.run(_age(url, written))
        aged = asyncio.run(_log(url))
        assert [e[:3] for e in aged] == [e[:3] for e in written]
        for old, new in zip(aged, written, strict=True):  # every event showing a message
            assert (old != new) == (new[2] in SHOWING), new

        command.downgrade(alembic_config(url), "0010")
        upgrade(url)
        # Byte for byte what the live code wrote, message_id included.
        assert asyncio.run(_log(url)) == written
        # Again: an upgrade of an upgraded log changes nothing.
        command.downgrade(alembic_config(url), "0010")
        upgrade(url)
        assert asyncio.run(_log(url)) == written

        left = next(
            jsoncodec.loads(d)
            for _, _, a, d, _ in written
            if a == REACTION_REMOVED and jsoncodec.loads(d)["reaction"] == ":crowd:"
        )
        crowd = next(r for r in left["message"]["reactions"] if r["reaction"] == ":crowd:")
        assert crowd["count"] == CROWD - 1 and len(crowd["user_ids"]) == 20
        assert left["user_id"] not in crowd["user_ids"]

        contents = asyncio.run(_contents(url, room_id))
        assert contents["json-looking"] == '{"k": 1}'  # a string stays a string
        assert contents["hello, edited"] == "attachment"
        assert contents["plain"] is None and contents[None] is None  # the tombstone
        assert contents["rich"] == {
            "type": "image",
            "size": [640, 480],
            "alt": "é \u2028",
            "n": 1.5,
        }
        assert contents["empty"] == ""
