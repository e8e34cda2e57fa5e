"""Revisions upgrade databases with data in them: 0003 with messages waiting in the
outbox, 0004 with messages to backfill into the room event log, 0006 and 0007 with
workspaces, rooms and members."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, select, text

from roomchat import jsoncodec
from roomchat.domain.api_keys import ApiKeyService
from roomchat.domain.events import message_data, new_message_event
from roomchat.domain.kinds import NEW_MESSAGE
from roomchat.domain.models import MAX_ID, Message, User
from roomchat.domain.rate_limits import RateLimiter
from roomchat.domain.webhooks import WebhookService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.errors import ChatError
from roomchat.frames import action_of
from roomchat.frames import broadcast as broadcast_frame
from roomchat.store import Store
from roomchat.store.database import create_engine
from roomchat.store.messages import NewMessage
from roomchat.store.migrate import alembic_config, upgrade
from roomchat.store.recorder import Recorder
from roomchat.store.tables import messages, outbox, webhook_cursors
from tests.support.databases import database_url
from tests.unit.conftest import user_service, workspace_service

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


USERS = (
    User(1, "ann", "Ann", None),
    User(2, "bo\u00e9", 'B\u00f6 "the" \\ one \u2028', "https://example.test/a.png"),
)


async def _seed_messages(url: str) -> list[Message]:
    """Messages stored by the live code at revision 0003, as their broadcasts carried them."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            for user in USERS:
                await conn.execute(
                    text(
                        "INSERT INTO users (id, username, display_name, avatar_url, password_hash,"
                        " created_at, username_key) VALUES (:id, :u, :d, :a, '-', :now, :u)"
                    ),
                    {
                        "id": user.id,
                        "u": user.username,
                        "d": user.display_name,
                        "a": user.avatar_url,
                        "now": now,
                    },
                )
            await conn.execute(
                text(
                    "INSERT INTO workspaces (id, name, owner_id, created_at)"
                    " VALUES (1, 'w', 1, :now)"
                ),
                {"now": now},
            )
            for room_id in (1, 2):
                await conn.execute(
                    text(
                        "INSERT INTO rooms (id, workspace_id, name, created_by, join_token,"
                        " last_seq, created_at) VALUES (:id, 1, 'r', 1, :token, 0, :now)"
                    ),
                    {"id": room_id, "token": f"token-{room_id}", "now": now},
                )
    finally:
        await engine.dispose()
    odd = [
        NewMessage(1, USERS[0], "plain", None, None),
        NewMessage(1, USERS[1], 'caf\u00e9 \U0001f600 "q" \\ \n\t\u2028', '{"k": [1]}', "c-1"),
        NewMessage(2, USERS[0], "other room", None, "c-1"),
    ]
    # More than the migration reads at once, spread over both rooms.
    many = [NewMessage(1 + n % 2, USERS[n % 2], f"m{n}", None, None) for n in range(1100)]
    # Written with the columns revision 0003 has (the live code's queries name the
    # columns of the newest revision).
    stored: list[Message] = []
    last_seq = {1: 0, 2: 0}
    for n, item in enumerate((*odd, *many), start=1):
        last_seq[item.room_id] += 1
        stored.append(
            Message(
                n,
                item.room_id,
                last_seq[item.room_id],
                item.user,
                item.message_text,
                item.message_content,
                item.client_msg_id,
                now,
            )
        )
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(messages),
                [
                    {
                        "id": m.id,
                        "room_id": m.room_id,
                        "seq": m.seq,
                        "user_id": m.user.id,
                        "message_text": m.message_text,
                        "message_content": m.message_content,
                        "client_msg_id": m.client_msg_id,
                        "created_at": m.created_at,
                    }
                    for m in stored
                ],
            )
            for room_id, seq in last_seq.items():
                await conn.execute(
                    text("UPDATE rooms SET last_seq = :seq WHERE id = :id"),
                    {"seq": seq, "id": room_id},
                )
        return stored
    finally:
        await engine.dispose()


async def _logged(url: str) -> dict[tuple[int, int], tuple[str, bytes]]:
    store = Store.connect(url)
    try:
        return {
            (e.room_id, e.seq): (e.action, e.data)
            for room_id in (1, 2)
            for e in await store.events.between(room_id, 1, MAX_ID)
        }
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0004_backfills_each_message_as_the_event_that_was_broadcast(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0003")
        stored = asyncio.run(_seed_messages(url))
        upgrade(url)
        logged = asyncio.run(_logged(url))
        assert len(logged) == len(stored) == 1103
        for message in stored:
            broadcast = new_message_event(message, "any")
            action, data = logged[(message.room_id, message.seq)]
            assert action == NEW_MESSAGE
            assert broadcast_frame(action, data) == broadcast.frame
            assert data == message_data(message)
        command.downgrade(alembic_config(url), "0003")
        upgrade(url)
        assert asyncio.run(_logged(url)) == logged


async def _seed_members(url: str) -> None:
    """Two rooms at seq 7 and 0 with members, as revision 0005 left them."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            for n, name in ((1, "ann"), (2, "bob")):
                await conn.execute(
                    text(
                        "INSERT INTO users (id, username, display_name, password_hash,"
                        " created_at, username_key) VALUES (:id, :name, :name, '-', :now, :name)"
                    ),
                    {"id": n, "name": name, "now": now},
                )
            await conn.execute(
                text(
                    "INSERT INTO workspaces (id, name, owner_id, created_at)"
                    " VALUES (1, 'w', 1, :now)"
                ),
                {"now": now},
            )
            for room_id, last_seq in ((1, 7), (2, 0)):
                await conn.execute(
                    text(
                        "INSERT INTO rooms (id, workspace_id, name, created_by, join_token,"
                        " last_seq, created_at) VALUES (:id, 1, 'r', 1, :token, :seq, :now)"
                    ),
                    {"id": room_id, "token": f"t{room_id}", "seq": last_seq, "now": now},
                )
                for user_id in (1, 2):
                    await conn.execute(
                        text(
                            "INSERT INTO room_users (room_id, user_id, joined_at)"
                            " VALUES (:room, :user, :now)"
                        ),
                        {"room": room_id, "user": user_id, "now": now},
                    )
    finally:
        await engine.dispose()


async def _read_state(url: str) -> tuple[set[tuple[int, int, int]], set[bool]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            members = await conn.execute(
                text("SELECT room_id, user_id, last_read_seq FROM room_users")
            )
            shares = await conn.scalars(text("SELECT share_read_receipts FROM users"))
            return {tuple(row) for row in members}, {bool(s) for s in shares}
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0006_starts_existing_members_with_everything_read(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0005")
        asyncio.run(_seed_members(url))
        upgrade(url)
        members, shares = asyncio.run(_read_state(url))
        assert members == {(1, 1, 7), (1, 2, 7), (2, 1, 0), (2, 2, 0)}
        assert shares == {True}
        command.downgrade(alembic_config(url), "0005")
        upgrade(url)
        assert asyncio.run(_read_state(url)) == (members, shares)


async def _seed_workspace_members(url: str) -> None:
    """Ann owns the seeded workspace, Bob is a member of it (as revision 0006 keeps them)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for user_id, role in ((1, "owner"), (2, "member")):
                await conn.execute(
                    text(
                        "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at)"
                        " VALUES (1, :user, :role, :now)"
                    ),
                    {"user": user_id, "role": role, "now": datetime.now(UTC)},
                )
    finally:
        await engine.dispose()


def _workspaces(store: Store) -> WorkspaceService:
    return workspace_service(store, Recorder(store, None, "unit"))


def _api_keys(store: Store) -> ApiKeyService:
    return ApiKeyService(store, _workspaces(store), 5, RateLimiter("100/second", "-"))


async def _make_key(url: str) -> tuple[str, User, tuple[str | None, ...]]:
    """A key for the seeded workspace, made and used by the live code; its bot, and the
    roles of the owner, the other member and the bot."""
    store = Store.connect(url)
    try:
        keys = _api_keys(store)
        issued = await keys.create_as_operator(1, "Migrated bot")
        bot = await keys.authenticate(issued.key)
        roles = tuple([await store.workspaces.role(1, user_id) for user_id in (1, 2, bot.id)])
        return issued.key, bot, roles
    finally:
        await store.close()


async def _refused(url: str, key: str) -> str:
    store = Store.connect(url)
    try:
        keys = _api_keys(store)
        with pytest.raises(ChatError) as refused:
            await keys.authenticate(key)
        return refused.value.code
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0007_gives_existing_workspaces_api_keys(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0006")
        asyncio.run(_seed_members(url))
        asyncio.run(_seed_workspace_members(url))
        before = asyncio.run(_read_state(url))
        upgrade(url)
        assert asyncio.run(_read_state(url)) == before
        key, bot, roles = asyncio.run(_make_key(url))
        assert bot.username.startswith("bot-") and bot.display_name == "Migrated bot"
        assert roles == ("owner", "member", "bot")
        # Down and up again with a key and its bot stored: the key is gone for good.
        command.downgrade(alembic_config(url), "0006")
        upgrade(url)
        assert asyncio.run(_refused(url, key)) == "unauthorized"
        assert asyncio.run(_make_key(url))[2][:2] == ("owner", "member")


async def _register_webhook(url: str) -> tuple[list[tuple[int, int]], list[int]]:
    """An endpoint registered by the live code on the migrated data: its cursors (each
    existing room at its seq then) and the rooms it has anything pending in."""
    store = Store.connect(url)
    try:

        async def reachable(_: str) -> None:
            return None

        hooks = WebhookService(store, _workspaces(store), reachable, 3)
        owner = await user_service(store).by_username("ann")
        assert owner is not None
        made = await hooks.create(owner, 1, "https://example.com/hook", [NEW_MESSAGE])
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                cursors = await conn.execute(
                    select(webhook_cursors.c.room_id, webhook_cursors.c.delivered_seq)
                    .where(webhook_cursors.c.webhook_id == made.webhook.id)
                    .order_by(webhook_cursors.c.room_id)
                )
                found = [(row[0], row[1]) for row in cursors]
        finally:
            await engine.dispose()
        pending = await store.webhooks.pending_rooms(made.webhook.id, 1, 10)
        return found, [room_id for room_id, _ in pending]
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0008_webhooks_start_at_each_existing_rooms_seq(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url, "0007")
        asyncio.run(_seed_members(url))
        asyncio.run(_seed_workspace_members(url))
        before = asyncio.run(_read_state(url))
        upgrade(url)
        assert asyncio.run(_read_state(url)) == before
        cursors, pending = asyncio.run(_register_webhook(url))
        # Room 1's seven old events are not sent to an endpoint registered now.
        assert cursors == [(1, 7), (2, 0)] and pending == []
        command.downgrade(alembic_config(url), "0007")
        upgrade(url)
        assert asyncio.run(_register_webhook(url))[0] == cursors
