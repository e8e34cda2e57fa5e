"""Revision 0016 upgrades a database with a message with files in it: the message still
shows them in upload order (as its stored event does), and a send made after the upgrade
keeps the order it gave; downgrading and upgrading again works."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from roomchat.store import Store
from roomchat.store.attachments import claim
from roomchat.store.database import create_engine
from roomchat.store.migrate import alembic_config, upgrade
from tests.support.databases import database_url

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ROWS: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "INSERT INTO users (id, username, display_name, password_hash, created_at,"
        " username_key) VALUES (1, 'ann', 'ann', '-', :t, 'ann')",
        [{}],
    ),
    ("INSERT INTO workspaces (id, name, owner_id, created_at) VALUES (1, 'w', 1, :t)", [{}]),
    (
        "INSERT INTO rooms (id, workspace_id, name, created_by, join_token, last_seq,"
        " created_at) VALUES (1, 1, 'r', 1, 't1', 2, :t)",
        [{}],
    ),
    (
        "INSERT INTO messages (id, room_id, seq, user_id, message_text, created_at)"
        " VALUES (:id, 1, :seq, 1, '', :t)",
        [{"id": 1, "seq": 1}, {"id": 2, "seq": 2}],
    ),
    (
        "INSERT INTO attachments (id, workspace_id, room_id, user_id, message_id, filename,"
        " content_type, size, storage_key, created_at)"
        " VALUES (:id, 1, 1, 1, :message_id, :name, 'text/plain; charset=utf-8', 1, :key, :t)",
        [
            # Message 1's files, attached before 0016; 3, 4 and 5 are not sent yet.
            {"id": n, "message_id": 1 if n < 3 else None, "name": f"{n}.txt", "key": f"k{n}"}
            for n in range(1, 6)
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


async def _attach_to_message_2(url: str) -> list[int]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            return [a.id for a in await claim(conn, 2, 1, 1, [5, 3, 4])]
    finally:
        await engine.dispose()


async def _shown(url: str) -> dict[int, list[int]]:
    store = Store.connect(url)
    try:
        page = await store.messages.latest(1, 10)
        return {m.id: [a.id for a in m.attachments] for m in page.messages}
    finally:
        await store.close()


async def _attached(url: str) -> list[tuple[int, int]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(text("SELECT id, message_id FROM attachments ORDER BY id"))
            return [(row.id, row.message_id) for row in found]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0016_keeps_old_messages_files_in_upload_order_and_new_ones_as_given(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0015")
        asyncio.run(_seed(url))
        upgrade(url)
        assert asyncio.run(_shown(url)) == {1: [1, 2], 2: []}
        assert asyncio.run(_attach_to_message_2(url)) == [5, 3, 4]
        assert asyncio.run(_shown(url)) == {1: [1, 2], 2: [5, 3, 4]}
        command.downgrade(alembic_config(url), "0015")
        assert asyncio.run(_attached(url)) == [(1, 1), (2, 1), (3, 2), (4, 2), (5, 2)]
        upgrade(url)  # the order given is gone with the column: upload order again
        assert asyncio.run(_shown(url)) == {1: [1, 2], 2: [3, 4, 5]}
