"""Revision 0010 upgrades a database where revoked keys' bots are still members (issue
20: a hundred dead bots in the member list): each leaves its workspace and its live
rooms, with a ``room_member_left`` on each room's seq exactly as the live code writes
one; unrevoked keys' bots, and everyone else, stay as they were."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text

from roomchat import jsoncodec
from roomchat.domain.kinds import MEMBER_LEFT
from roomchat.domain.room_changes import member_left_data
from roomchat.store.database import create_engine
from roomchat.store.migrate import alembic_config, upgrade
from roomchat.store.tables import room_events, room_users, rooms, workspace_members
from tests.support.databases import database_url

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ANN, BOB, DEAD_BOT, LIVE_BOT, OTHER_DEAD_BOT = 1, 2, 10, 11, 12
ROWS: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "INSERT INTO users (id, username, display_name, password_hash, created_at,"
        " username_key) VALUES (:id, :name, :name, '-', :t, :name)",
        [
            {"id": user_id, "name": name}
            for user_id, name in (
                (ANN, "ann"),
                (BOB, "bob"),
                (DEAD_BOT, "bot-dead"),
                (LIVE_BOT, "bot-live"),
                (OTHER_DEAD_BOT, "bot-other"),
            )
        ],
    ),
    (
        "INSERT INTO workspaces (id, name, owner_id, created_at) VALUES (:id, 'w', 1, :t)",
        [{"id": 1}, {"id": 2}],
    ),
    (
        "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at)"
        " VALUES (:w, :u, :role, :t)",
        [
            {"w": 1, "u": ANN, "role": "owner"},
            {"w": 1, "u": BOB, "role": "member"},
            {"w": 1, "u": DEAD_BOT, "role": "bot"},
            {"w": 1, "u": LIVE_BOT, "role": "bot"},
            {"w": 2, "u": ANN, "role": "owner"},
            {"w": 2, "u": OTHER_DEAD_BOT, "role": "bot"},
        ],
    ),
    (
        "INSERT INTO api_keys (id, workspace_id, user_id, name, prefix, key_hash, created_at,"
        " revoked_at) VALUES (:id, :w, :u, 'k', 'rck_', :hash, :t, :revoked)",
        [
            {"id": 1, "w": 1, "u": DEAD_BOT, "hash": "h1", "revoked": T0},
            {"id": 2, "w": 1, "u": LIVE_BOT, "hash": "h2", "revoked": None},
            {"id": 3, "w": 2, "u": OTHER_DEAD_BOT, "hash": "h3", "revoked": T0},
        ],
    ),
    (
        "INSERT INTO rooms (id, workspace_id, name, created_by, join_token, last_seq,"
        " created_at, deleted_at) VALUES (:id, 1, 'r', 1, :token, :seq, :t, :deleted)",
        [
            {"id": 1, "token": "t1", "seq": 3, "deleted": None},
            {"id": 2, "token": "t2", "seq": 1, "deleted": T0},  # deleted: left as it is
            {"id": 3, "token": "t3", "seq": 0, "deleted": None},  # the bot was never in it
        ],
    ),
    (
        "INSERT INTO room_users (room_id, user_id, joined_at) VALUES (:r, :u, :t)",
        [
            {"r": 1, "u": ANN},
            {"r": 1, "u": BOB},
            {"r": 1, "u": DEAD_BOT},
            {"r": 1, "u": LIVE_BOT},
            {"r": 2, "u": DEAD_BOT},
        ],
    ),
]


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement, rows in ROWS:
                await conn.execute(text(statement), [{**row, "t": T0} for row in rows])
    finally:
        await engine.dispose()


async def _state(url: str) -> tuple[Any, ...]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            members = set(
                (await conn.execute(select(*workspace_members.c["workspace_id", "user_id"]))).all()
            )
            in_rooms = set((await conn.execute(select(*room_users.c["room_id", "user_id"]))).all())
            seqs = dict((await conn.execute(select(rooms.c.id, rooms.c.last_seq))).all())
            events = (
                await conn.execute(
                    select(room_events.c["room_id", "seq", "action", "data"]).order_by(
                        room_events.c.room_id, room_events.c.seq
                    )
                )
            ).all()
            return members, in_rooms, seqs, [(r, s, a, bytes(d)) for r, s, a, d in events]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0010_takes_revoked_keys_bots_out_of_their_workspaces_and_rooms(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0009")
        asyncio.run(_seed(url))
        upgrade(url)
        members, in_rooms, seqs, events = asyncio.run(_state(url))
        assert members == {(1, ANN), (1, BOB), (1, LIVE_BOT), (2, ANN)}
        assert in_rooms == {(1, ANN), (1, BOB), (1, LIVE_BOT), (2, DEAD_BOT)}
        assert seqs == {1: 4, 2: 1, 3: 0}
        left = jsoncodec.dumps(member_left_data(1, 4, DEAD_BOT, DEAD_BOT))
        assert events == [(1, 4, MEMBER_LEFT, left)]
        # Down and up again: nothing more leaves, nothing comes back.
        command.downgrade(alembic_config(url), "0009")
        upgrade(url)
        assert asyncio.run(_state(url)) == (members, in_rooms, seqs, events)
