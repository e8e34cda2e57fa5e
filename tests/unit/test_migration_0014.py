"""Revision 0014 upgrades a database with messages, a thread and events in it: every
message mentions nobody (old text is not read again: that would announce mentions no
one made), every stored event that shows a message shows it in the new shape
(``mentions`` and ``mentions_room`` last), byte for byte what the live code writes,
and an edit then mentions and counts as it should."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from roomchat import jsoncodec
from roomchat.domain.events import message_data
from roomchat.domain.kinds import NEW_MESSAGE, THREAD_UPDATED
from roomchat.domain.mentions import Mentions
from roomchat.domain.message_changes import MessageChanges
from roomchat.domain.messages import MessageLimits
from roomchat.store import Store
from roomchat.store.database import create_engine
from roomchat.store.migrate import upgrade
from roomchat.store.recorder import Recorder
from roomchat.store.tables import message_mentions, room_events
from tests.support.databases import database_url
from tests.unit.conftest import room_service

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)
ANN = {"id": 1, "username": "ann", "display_name": "ann", "avatar_url": None}
BOB = {"id": 2, "username": "bob", "display_name": "bob", "avatar_url": None}
THREAD = {"reply_count": 1, "last_reply_at": T1, "participant_ids": [2]}


def _old(message_id: int, seq: int, user: Any, body: str, root: int | None, thread: Any) -> Any:
    """A message object as revision 0013's code wrote it."""
    return {
        "id": message_id,
        "room_id": 1,
        "seq": seq,
        "thread_root_id": root,
        "user_id": user["id"],
        "user": user,
        "message_text": body,
        "message_content": None,
        "client_msg_id": None,
        "created_at": T0 if root is None else T1,
        "edited_at": None,
        "deleted_at": None,
        "reactions": [],
        "thread": thread,
    }


ROOT_NOW = _old(1, 1, ANN, "hello @bob", None, THREAD)
REPLY = _old(2, 2, BOB, "hi", 1, None)
EVENTS = [
    (1, NEW_MESSAGE, _old(1, 1, ANN, "hello @bob", None, None), None),
    (2, NEW_MESSAGE, REPLY, None),
    (
        3,
        THREAD_UPDATED,
        {
            "room_id": 1,
            "seq": 3,
            "thread_root_id": 1,
            "thread": THREAD,
            "message_id": 1,
            "message": ROOT_NOW,
        },
        1,
    ),
]
ROWS: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "INSERT INTO users (id, username, display_name, password_hash, created_at,"
        " username_key) VALUES (:id, :name, :name, '-', :t, :name)",
        [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}],
    ),
    ("INSERT INTO workspaces (id, name, owner_id, created_at) VALUES (1, 'w', 1, :t)", [{}]),
    (
        "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at)"
        " VALUES (1, :u, :role, :t)",
        [{"u": 1, "role": "owner"}, {"u": 2, "role": "member"}],
    ),
    (
        "INSERT INTO rooms (id, workspace_id, name, created_by, join_token, last_seq,"
        " created_at) VALUES (1, 1, 'r', 1, 't1', 3, :t)",
        [{}],
    ),
    (
        "INSERT INTO room_users (room_id, user_id, joined_at) VALUES (1, :u, :t)",
        [{"u": 1}, {"u": 2}],
    ),
    (
        "INSERT INTO messages (id, room_id, seq, user_id, message_text, created_at,"
        " thread_root_id, reply_count, last_reply_at, thread_participants)"
        " VALUES (:id, 1, :seq, :u, :body, :at, :root, :replies, :last, :who)",
        [
            {
                "id": 1,
                "seq": 1,
                "u": 1,
                "body": "hello @bob",
                "at": T0,
                "root": None,
                "replies": 1,
                "last": T1,
                "who": "2",
            },
            {
                "id": 2,
                "seq": 2,
                "u": 2,
                "body": "hi",
                "at": T1,
                "root": 1,
                "replies": 0,
                "last": None,
                "who": None,
            },
        ],
    ),
    (
        "INSERT INTO room_events (room_id, seq, action, data, created_at, message_id)"
        " VALUES (1, :seq, :action, :data, :t, :message_id)",
        [
            {"seq": seq, "action": action, "data": jsoncodec.dumps(data), "message_id": mid}
            for seq, action, data, mid in EVENTS
        ],
    ),
]


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement, rows in ROWS:
                await conn.execute(text(statement), [{"t": T0, **row} for row in rows])
            if conn.dialect.name == "postgresql":  # the rows above named their ids
                for table in ("users", "workspaces", "rooms", "messages"):
                    await conn.execute(text(f"SELECT setval('{table}_id_seq', 100)"))
    finally:
        await engine.dispose()


async def _after(url: str) -> tuple[list[bytes], list[bytes], int, Any]:
    """The log; the messages as the live code encodes them; the mention rows; then an
    edit of the root by ann that names bob: its mentions and bob's count."""
    store = Store.connect(url)
    try:
        async with store.engine.connect() as conn:
            log = [
                bytes(d)
                for d in (
                    await conn.execute(select(room_events.c.data).order_by(room_events.c.seq))
                ).scalars()
            ]
            rows = (await conn.execute(select(func.count()).select_from(message_mentions))).scalar()
        thread = await store.threads.page(1, 1, 0, 10)
        live = [message_data(m) for m in thread.messages]
        recorder = Recorder(store, None, "unit")
        changes = MessageChanges(
            room_service(store, recorder), recorder, MessageLimits(), mentions=Mentions(store, "u")
        )
        ann = await store.users.get(1)
        assert ann is not None
        edited = await changes.edit(ann, 1, 1, "hello @Bob, again", None, keep_content=True)
        counts = await store.reads.positions(2, [1])
        told = [s.to_user for s in edited.signals]
        return log, live, int(rows or 0), (jsoncodec.loads(edited.value), counts[1], told)
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0014_mentions_nobody_before_it_and_reshapes_the_log(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0013")
        asyncio.run(_seed(url))
        upgrade(url)
        log, live, rows, (edited, bob, told) = asyncio.run(_after(url))
        root_now, reply_now = live
        assert rows == 0  # "@bob" in a message from before is no mention
        assert log[1] == reply_now
        assert jsoncodec.dumps(jsoncodec.loads(log[2])["message"]) == root_now
        first = jsoncodec.loads(log[0])
        # (0015 puts attachments after them)
        assert [k for k in first if k != "attachments"][-2:] == ["mentions", "mentions_room"]
        assert (first["mentions"], first["mentions_room"]) == ([], False)
        # The live code from here on: the edit names bob, who is told and counts it.
        assert edited["message"]["mentions"] == [2]
        assert (bob.mention_count, told) == (1, [2])
