"""Revision 0003 upgrades a database with messages waiting in the outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, select, text

from roomchat import jsoncodec
from roomchat.domain.events import NEW_MESSAGE, action_of, broadcast_frame
from roomchat.store.database import create_engine
from roomchat.store.migrate import alembic_config, upgrade
from roomchat.store.tables import outbox
from tests.support.databases import database_url

MESSAGE = {"id": 1, "room_id": 1, "seq": 1, "message_text": "waiting for the broker"}


async def _seed(url: str) -> bytes:
    """A room with one message whose outbox row (as revision 0002 wrote it) is unpublished."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    data = jsoncodec.dumps(MESSAGE)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, username, display_name, password_hash, created_at,"
                    " username_key) VALUES (1, 'ann', 'Ann', '-', :now, 'ann')"
                ),
                {"now": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO workspaces (id, name, owner_id, created_at)"
                    " VALUES (1, 'w', 1, :now)"
                ),
                {"now": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO rooms (id, workspace_id, name, created_by, join_token, last_seq,"
                    " created_at) VALUES (1, 1, 'r', 1, 'token', 1, :now)"
                ),
                {"now": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO messages (id, room_id, seq, user_id, message_text, created_at)"
                    " VALUES (1, 1, 1, 1, 'waiting for the broker', :now)"
                ),
                {"now": now},
            )
            await conn.execute(
                insert(outbox).values(room_id=1, seq=1, origin="old", payload=data, created_at=now)
            )
    finally:
        await engine.dispose()
    return data


async def _payloads(url: str) -> list[bytes]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [bytes(p) for p in (await conn.scalars(select(outbox.c.payload))).all()]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0003_wraps_waiting_outbox_rows_into_frames_and_back(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0002")
        data = asyncio.run(_seed(url))
        upgrade(url)
        (frame,) = asyncio.run(_payloads(url))
        assert frame == broadcast_frame(NEW_MESSAGE, data)
        assert action_of(frame) == NEW_MESSAGE
        assert jsoncodec.loads(frame) == {
            "action": NEW_MESSAGE,
            "status": "success",
            "data": MESSAGE,
        }
        command.downgrade(alembic_config(url), "0002")
        assert asyncio.run(_payloads(url)) == [data]
