"""Revision 0013 upgrades a database with messages and events in it: every message is
top-level without replies, every stored event that shows a message shows it in the
new shape (``thread_root_id`` after ``seq``, ``thread`` last), byte for byte what the
live code writes, and a reply then works on an old message."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text

from roomchat import jsoncodec
from roomchat.domain.events import message_data
from roomchat.domain.kinds import MESSAGE_EDITED, NEW_MESSAGE
from roomchat.domain.mentions import Mentions
from roomchat.domain.messages import MessageLimits, MessageService
from roomchat.metrics import Metrics
from roomchat.store import Store
from roomchat.store.database import create_engine
from roomchat.store.migrate import alembic_config, upgrade
from roomchat.store.recorder import Recorder
from roomchat.store.tables import room_events
from tests.support.databases import database_url
from tests.unit.conftest import room_service, workspace_service

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)
USER = {"id": 1, "username": "ann", "display_name": "ann", "avatar_url": None}


def _old_message(message_id: int, seq: int, text_: str, edited: datetime | None) -> Any:
    """A message object as revision 0011's code wrote it."""
    return {
        "id": message_id,
        "room_id": 1,
        "seq": seq,
        "user_id": 1,
        "user": USER,
        "message_text": text_,
        "message_content": None,
        "client_msg_id": None,
        "created_at": T0,
        "edited_at": edited,
        "deleted_at": None,
        "reactions": [],
    }


EVENTS = [
    (1, NEW_MESSAGE, _old_message(1, 1, "first", None)),
    (2, NEW_MESSAGE, _old_message(2, 2, "second!", T1)),
    (
        3,
        MESSAGE_EDITED,
        {"room_id": 1, "seq": 3, "message_id": 2, "message": _old_message(2, 2, "second!", T1)},
    ),
]
ROWS: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "INSERT INTO users (id, username, display_name, password_hash, created_at,"
        " username_key) VALUES (1, 'ann', 'ann', '-', :t, 'ann')",
        [{}],
    ),
    ("INSERT INTO workspaces (id, name, owner_id, created_at) VALUES (1, 'w', 1, :t)", [{}]),
    (
        "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at)"
        " VALUES (1, 1, 'owner', :t)",
        [{}],
    ),
    (
        "INSERT INTO rooms (id, workspace_id, name, created_by, join_token, last_seq,"
        " created_at) VALUES (1, 1, 'r', 1, 't1', 3, :t)",
        [{}],
    ),
    ("INSERT INTO room_users (room_id, user_id, joined_at) VALUES (1, 1, :t)", [{}]),
    (
        "INSERT INTO messages (id, room_id, seq, user_id, message_text, created_at, edited_at)"
        " VALUES (:id, 1, :seq, 1, :body, :t, :edited)",
        [
            {"id": 1, "seq": 1, "body": "first", "edited": None},
            {"id": 2, "seq": 2, "body": "second!", "edited": T1},
        ],
    ),
    (
        "INSERT INTO room_events (room_id, seq, action, data, created_at, message_id)"
        " VALUES (1, :seq, :action, :data, :t, :message_id)",
        [
            {
                "seq": seq,
                "action": action,
                "data": jsoncodec.dumps(data),
                "message_id": None if action == NEW_MESSAGE else 2,
            }
            for seq, action, data in EVENTS
        ],
    ),
]


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement, rows in ROWS:
                await conn.execute(text(statement), [{**row, "t": T0} for row in rows])
            if conn.dialect.name == "postgresql":  # the rows above named their ids
                for table in ("users", "workspaces", "rooms", "messages"):
                    await conn.execute(text(f"SELECT setval('{table}_id_seq', 100)"))
    finally:
        await engine.dispose()


async def _log(url: str) -> list[tuple[int, str, bytes]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = select(room_events.c.seq, room_events.c.action, room_events.c.data).order_by(
                room_events.c.seq
            )
            return [(s, a, bytes(d)) for s, a, d in (await conn.execute(query)).all()]
    finally:
        await engine.dispose()


async def _live(url: str) -> tuple[list[bytes], Any]:
    """The messages as the live code encodes them; then a reply to the first one."""
    store = Store.connect(url)
    recorder = Recorder(store, None, "unit")
    rooms = room_service(store, recorder, workspace_service(store, recorder))
    sends = MessageService(
        store,
        rooms,
        recorder,
        MessageLimits(),
        metrics=Metrics("unit"),
        mentions=Mentions(store, "unit"),
    )
    sends.start()
    try:
        page = await store.messages.latest(1, 10)
        encoded = [message_data(m) for m in page.messages]
        ann = await store.users.get(1)
        assert ann is not None
        answer = await sends.send(ann, 1, "a reply", None, None, thread_root_id=1)
        root = (await store.messages.latest(1, 10)).messages[0]
        return encoded, (answer.message.seq, [e.action for e in answer.events], root.thread)
    finally:
        await sends.close()
        await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0013_brings_stored_messages_and_events_to_the_threaded_shape(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0012")
        asyncio.run(_seed(url))
        upgrade(url)
        log = asyncio.run(_log(url))
        live, replied = asyncio.run(_live(url))
        first, second = live
        assert log[0][2] == first
        assert log[1][2] == second
        edit = jsoncodec.loads(log[2][2])
        assert jsoncodec.dumps(edit["message"]) == second
        assert list(edit) == ["room_id", "seq", "message_id", "message"]
        seq, actions, thread = replied
        assert (seq, actions) == (4, ["new_room_chat_message", "room_chat_thread_updated"])
        assert (thread.reply_count, thread.participant_ids) == (1, (1,))
        # Down and up again: the log as it was after the first upgrade (and the reply's).
        upgraded = asyncio.run(_log(url))
        command.downgrade(alembic_config(url), "0012")
        upgrade(url)
        assert asyncio.run(_log(url))[:3] == upgraded[:3]
