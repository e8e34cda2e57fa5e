"""Revision 0015 upgrades a database with messages and events in it: the attachments
table is there (and empty: nothing had files before), and every stored event that
shows a message shows it in the new shape (``"attachments":[]`` last), byte for byte
what the live code writes; upgrading twice writes the same bytes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from roomchat import jsoncodec
from roomchat.domain.events import message_data
from roomchat.domain.kinds import MESSAGE_EDITED, NEW_MESSAGE
from roomchat.store import Store
from roomchat.store.database import create_engine
from roomchat.store.migrate import upgrade
from roomchat.store.tables import attachments, room_events
from tests.support.databases import database_url

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ANN = {"id": 1, "username": "ann", "display_name": "ann", "avatar_url": None}


def _old(message_id: int, seq: int, body: str, edited: datetime | None = None) -> Any:
    """A message object as revision 0014's code wrote it."""
    return {
        "id": message_id,
        "room_id": 1,
        "seq": seq,
        "thread_root_id": None,
        "user_id": 1,
        "user": ANN,
        "message_text": body,
        "message_content": None,
        "client_msg_id": None,
        "created_at": T0,
        "edited_at": edited,
        "deleted_at": None,
        "reactions": [],
        "thread": None,
        "mentions": [],
        "mentions_room": False,
    }


EVENTS = [
    (1, NEW_MESSAGE, _old(1, 1, "first"), None),
    (2, NEW_MESSAGE, _old(2, 2, "second"), None),
    (
        3,
        MESSAGE_EDITED,
        {"room_id": 1, "seq": 3, "message_id": 1, "message": _old(1, 1, "first!", T0)},
        1,
    ),
    (4, "room_member_joined", {"room_id": 1, "seq": 4, "user_id": 1}, None),
]
ROWS: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "INSERT INTO users (id, username, display_name, password_hash, created_at,"
        " username_key) VALUES (1, 'ann', 'ann', '-', :t, 'ann')",
        [{}],
    ),
    ("INSERT INTO workspaces (id, name, owner_id, created_at) VALUES (1, 'w', 1, :t)", [{}]),
    (
        "INSERT INTO rooms (id, workspace_id, name, created_by, join_token, last_seq,"
        " created_at) VALUES (1, 1, 'r', 1, 't1', 4, :t)",
        [{}],
    ),
    (
        "INSERT INTO messages (id, room_id, seq, user_id, message_text, created_at, edited_at)"
        " VALUES (:id, 1, :seq, 1, :body, :t, :edited)",
        [
            {"id": 1, "seq": 1, "body": "first!", "edited": T0},
            {"id": 2, "seq": 2, "body": "second", "edited": None},
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
    finally:
        await engine.dispose()


async def _after(url: str) -> tuple[list[bytes], list[bytes], int]:
    store = Store.connect(url)
    try:
        async with store.engine.connect() as conn:
            log = [
                bytes(d)
                for d in (
                    await conn.execute(select(room_events.c.data).order_by(room_events.c.seq))
                ).scalars()
            ]
            files = (await conn.execute(select(func.count()).select_from(attachments))).scalar()
        page = await store.messages.latest(1, 10)
        return log, [message_data(m) for m in page.messages], int(files or 0)
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0015_adds_attachments_and_reshapes_the_log(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0014")
        asyncio.run(_seed(url))
        upgrade(url)
        log, live, files = asyncio.run(_after(url))
        assert files == 0
        first_now, second_now = live
        assert log[1] == second_now  # byte for byte what the live code writes
        assert jsoncodec.dumps(jsoncodec.loads(log[2])["message"]) == first_now
        assert list(jsoncodec.loads(log[0]))[-1] == "attachments"
        assert jsoncodec.loads(log[3]) == {"room_id": 1, "seq": 4, "user_id": 1}  # untouched
        upgrade(url, "0014")
        upgrade(url)
        again, _, _ = asyncio.run(_after(url))
        assert again == log
