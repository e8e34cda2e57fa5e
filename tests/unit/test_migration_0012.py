"""Revision 0012 upgrades a database with rooms in it: every room is a ``room`` (its
name, members and seq as they were), no direct conversation exists, and the store opens
one afterwards; downgrading deletes the direct conversations it would no longer know."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text

from roomchat.store import Store
from roomchat.store.database import create_engine
from roomchat.store.migrate import alembic_config, upgrade
from roomchat.store.tables import room_users, rooms
from tests.support.databases import database_url

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
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
        " created_at) VALUES (:id, 1, :name, 1, :token, :seq, :t)",
        [
            {"id": 1, "name": "general", "token": "t1", "seq": 3},
            {"id": 2, "name": "x", "token": "t2", "seq": 0},
        ],
    ),
    (
        "INSERT INTO room_users (room_id, user_id, joined_at) VALUES (:r, :u, :t)",
        [{"r": 1, "u": 1}, {"r": 1, "u": 2}, {"r": 2, "u": 1}],
    ),
]


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement, rows in ROWS:
                await conn.execute(text(statement), [{**row, "t": T0} for row in rows])
            if conn.dialect.name == "postgresql":  # the rows above named their ids
                await conn.execute(text("SELECT setval('rooms_id_seq', 100)"))
    finally:
        await engine.dispose()


async def _rooms(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = select(
                rooms.c.id, rooms.c.name, rooms.c.last_seq, rooms.c.kind, rooms.c.direct_key
            ).order_by(rooms.c.id)
            return [tuple(row) for row in (await conn.execute(query)).all()]
    finally:
        await engine.dispose()


async def _open_direct(url: str) -> tuple[int, bool, bool, set[int]]:
    store = Store.connect(url)
    try:
        room, made = await store.rooms.direct(1, 1, (1, 2), "dm-token", 10)
        _, again = await store.rooms.direct(1, 2, (2, 1), "other-token", 10)
        async with store.engine.connect() as conn:
            query = select(room_users.c.user_id).where(room_users.c.room_id == room.id)
            members = set((await conn.execute(query)).scalars())
        return room.id, made, again, members
    finally:
        await store.close()


async def _deleted(url: str, room_id: int) -> bool:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = select(rooms.c.deleted_at).where(rooms.c.id == room_id)
            return (await conn.execute(query)).scalar_one() is not None
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0012_makes_every_stored_room_a_room_and_then_opens_direct_ones(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0011")
        asyncio.run(_seed(url))
        upgrade(url)
        assert asyncio.run(_rooms(url)) == [
            (1, "general", 3, "room", None),
            (2, "x", 0, "room", None),
        ]
        room_id, made, again, members = asyncio.run(_open_direct(url))
        assert (made, again, members) == (True, False, {1, 2})
        # Down: the direct conversation goes (as a deleted room), the rooms stay; up again.
        command.downgrade(alembic_config(url), "0011")
        assert asyncio.run(_deleted(url, room_id))
        upgrade(url)
        assert [r[:4] for r in asyncio.run(_rooms(url))] == [
            (1, "general", 3, "room"),
            (2, "x", 0, "room"),
            (room_id, "", 0, "room"),
        ]
