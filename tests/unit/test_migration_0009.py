"""Revision 0009 upgrades a database whose event log still holds what edits and deletes
took back: every such event is rewritten to show its message as it is now (as the live
code rewrites them from then on), edit events are indexed by their message, and
nothing else changes: the same seqs, actions and count, other events byte for byte."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert, select, text

from roomchat import jsoncodec
from roomchat.domain.events import shown_as_now
from roomchat.domain.kinds import MESSAGE_EDITED, NEW_MESSAGE
from roomchat.domain.mentions import Mentions
from roomchat.domain.message_changes import MessageChanges
from roomchat.domain.messages import MessageLimits
from roomchat.domain.models import Message, User
from roomchat.store import Store
from roomchat.store.database import create_engine
from roomchat.store.migrate import alembic_config, upgrade
from roomchat.store.recorder import Recorder
from roomchat.store.tables import messages, room_events
from tests.support.databases import database_url
from tests.unit.conftest import room_service

ANN = User(1, "ann", "Ann", None)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EDITED_AT, DELETED_AT = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
MANY = 1050  # edited messages: more than the migration reads at once
EARLIER = (b"gone, first", b"gone.pdf", b"gone, second", b"kept, first", b"kept, second")


def _new(message_id: int, seq: int, text_: str, content: str | None) -> dict[str, Any]:
    """``new_room_chat_message`` data as revision 0008's code broadcast it."""
    return {
        "id": message_id,
        "room_id": 1,
        "seq": seq,
        "user_id": ANN.id,
        "user": ANN.to_dict(),
        "message_text": text_,
        "message_content": content,
        "client_msg_id": None,
        "created_at": T0,
    }


def _edited(seq: int, message: dict[str, Any], text_: str) -> dict[str, Any]:
    state = {**message, "message_text": text_, "edited_at": EDITED_AT, "deleted_at": None}
    state["reactions"] = [{"reaction": "👀", "count": 1, "user_ids": [1]}]
    return {"room_id": 1, "seq": seq, "message": state}


def _history() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Messages as they are now, and the room's events as they were broadcast."""
    rows: list[dict[str, Any]] = []
    events: list[tuple[str, dict[str, Any], int | None]] = []

    def message(text_: str | None, content: str | None, edited: bool, deleted: bool) -> int:
        message_id = len(rows) + 1
        rows.append(
            {
                "id": message_id,
                "room_id": 1,
                "seq": len(events) + 1,
                "user_id": ANN.id,
                "message_text": text_,
                "message_content": content,
                "created_at": T0,
                "edited_at": EDITED_AT if edited else None,
                "deleted_at": DELETED_AT if deleted else None,
            }
        )
        return message_id

    gone = message(None, None, edited=True, deleted=True)
    events.append((NEW_MESSAGE, _new(gone, 1, "gone, first", "gone.pdf"), None))
    events.append((MESSAGE_EDITED, _edited(2, events[0][1], "gone, second"), gone))
    kept = message("kept, now", None, edited=True, deleted=False)
    events.append((NEW_MESSAGE, _new(kept, 3, "kept, first", None), None))
    for text_ in ("kept, second", "kept, now"):
        events.append((MESSAGE_EDITED, _edited(len(events) + 1, events[2][1], text_), kept))
    deleted = {"room_id": 1, "seq": len(events) + 1, "message_id": gone, "deleted_by": 1}
    events.append(("room_chat_message_deleted", deleted, None))
    untouched = message("untouched", None, edited=False, deleted=False)
    events.append((NEW_MESSAGE, _new(untouched, len(events) + 1, "untouched", None), None))
    for n in range(MANY):
        message_id = message(f"many {n}, now", None, edited=True, deleted=False)
        new = _new(message_id, len(events) + 1, f"many {n}, before", None)
        events.append((NEW_MESSAGE, new, None))
        events.append((MESSAGE_EDITED, _edited(len(events) + 1, new, f"many {n}, now"), message_id))
    logged = [
        {
            "room_id": 1,
            "seq": data["seq"],
            "action": action,
            "data": jsoncodec.dumps(data),
            "created_at": T0,
        }
        for action, data, _ in events
    ]
    return rows, logged


async def _seed(url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows, logged = _history()
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, username, display_name, password_hash, created_at,"
                    " username_key) VALUES (1, 'ann', 'Ann', '-', :t, 'ann')"
                ),
                {"t": T0},
            )
            await conn.execute(
                text(
                    "INSERT INTO workspaces (id, name, owner_id, created_at) VALUES (1, 'w', 1, :t)"
                ),
                {"t": T0},
            )
            await conn.execute(
                text(
                    "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at)"
                    " VALUES (1, 1, 'owner', :t)"
                ),
                {"t": T0},
            )
            await conn.execute(
                text(
                    "INSERT INTO rooms (id, workspace_id, name, created_by, join_token, last_seq,"
                    " created_at) VALUES (1, 1, 'r', 1, 'token', :seq, :t)"
                ),
                {"seq": len(logged), "t": T0},
            )
            await conn.execute(
                text("INSERT INTO room_users (room_id, user_id, joined_at) VALUES (1, 1, :t)"),
                {"t": T0},
            )
            await conn.execute(insert(messages), rows)
            await conn.execute(insert(room_events), logged)
    finally:
        await engine.dispose()
    return rows, logged


async def _log(url: str) -> list[tuple[int, str, bytes, int | None]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = select(
                room_events.c.seq,
                room_events.c.action,
                room_events.c.data,
                room_events.c.message_id,
            ).order_by(room_events.c.seq)
            return [
                (r.seq, r.action, bytes(r.data), r.message_id) for r in await conn.execute(query)
            ]
    finally:
        await engine.dispose()


def _message(row: dict[str, Any]) -> Message:
    return Message(
        row["id"],
        1,
        row["seq"],
        ANN,
        row["message_text"],
        row["message_content"],
        None,
        T0,
        row["edited_at"],
        row["deleted_at"],
    )


async def _edit_again(url: str, message_id: int) -> None:
    """The live code's edit on the migrated log."""
    store = Store.connect(url)
    try:
        recorder = Recorder(store, None, "unit")
        changes = MessageChanges(
            room_service(store, recorder),
            recorder,
            MessageLimits(),
            mentions=Mentions(store, "unit"),
        )
        await changes.edit(ANN, 1, message_id, "kept, after", None, keep_content=True)
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0009_rewrites_what_edits_and_deletes_took_back(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0008")
        rows, logged = asyncio.run(_seed(url))
        upgrade(url, "0009")  # later revisions reshape the events again (0011)
        after = asyncio.run(_log(url))

        assert [(seq, action) for seq, action, _, _ in after] == [
            (e["seq"], e["action"]) for e in logged
        ]
        for _, _, data, _ in after:
            assert not any(earlier in data for earlier in EARLIER), data
        by_seq = {row["seq"]: row for row in rows}
        edits_of: dict[int, int] = {}
        for (seq, action, data, message_id), before in zip(after, logged, strict=True):
            if action == NEW_MESSAGE and by_seq[seq]["edited_at"] is not None:
                expected = shown_as_now(action, before["data"], _message(by_seq[seq]))
                assert data == expected  # as the live code rewrites it
            elif action == MESSAGE_EDITED:
                assert message_id == jsoncodec.loads(data)["message"]["id"]
                edits_of[message_id] = edits_of.get(message_id, 0) + 1
                shown = jsoncodec.loads(data)["message"]
                row = rows[message_id - 1]
                assert shown["message_text"] == row["message_text"]
                assert shown["reactions"] == jsoncodec.loads(before["data"])["message"]["reactions"]
            else:
                assert data == before["data"] and message_id is None  # untouched
        assert len(edits_of) == MANY + 2

        tomb = jsoncodec.loads(after[0][2])
        assert tomb["message_text"] is None and tomb["message_content"] is None
        assert tomb["deleted_at"] is not None

        # The live code finds the old edits by the filled-in message_id.
        upgrade(url)
        asyncio.run(_edit_again(url, 2))
        kept = [jsoncodec.loads(d) for s, a, d, _ in asyncio.run(_log(url)) if s in (3, 4, 5)]
        assert kept[0]["message_text"] == "kept, after"
        assert [k["message"]["message_text"] for k in kept[1:]] == ["kept, after"] * 2

        # Down (the column goes, the text stays gone) and up again: the same log.
        now = asyncio.run(_log(url))
        command.downgrade(alembic_config(url), "0008")
        upgrade(url)
        assert asyncio.run(_log(url)) == now
