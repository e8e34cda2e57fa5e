"""Attachment rows (domain/attachments.py): uploads, their messages, and what the sweep
removes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roomchat.domain.attachments import AttachmentsTaken, StoredAttachment
from roomchat.domain.models import Attachment, Message
from roomchat.store.database import reads_of
from roomchat.store.tables import attachments, messages, rooms


def _stored(row: Any) -> StoredAttachment:
    return StoredAttachment(
        Attachment(
            id=row.id,
            room_id=row.room_id,
            user_id=row.user_id,
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            width=row.width,
            height=row.height,
            created_at=row.created_at,
            has_thumbnail=row.thumbnail_key is not None,
            message_id=row.message_id,
        ),
        row.workspace_id,
        row.storage_key,
        row.thumbnail_key,
    )


class AttachmentRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def add(
        self,
        workspace_id: int,
        room_id: int,
        user_id: int,
        filename: str,
        content_type: str,
        size: int,
        width: int | None,
        height: int | None,
        key_of: Callable[[int], tuple[str, str | None]],
        now: datetime,
    ) -> Attachment:
        async with self._engine.begin() as conn:
            new_id = (
                await conn.execute(
                    insert(attachments)
                    .values(
                        workspace_id=workspace_id,
                        room_id=room_id,
                        user_id=user_id,
                        filename=filename,
                        content_type=content_type,
                        size=size,
                        width=width,
                        height=height,
                        storage_key="",
                        created_at=now,
                    )
                    .returning(attachments.c.id)
                )
            ).scalar_one()
            key, thumb = key_of(new_id)
            await conn.execute(
                update(attachments)
                .where(attachments.c.id == new_id)
                .values(storage_key=key, thumbnail_key=thumb)
            )
        return Attachment(
            id=new_id,
            room_id=room_id,
            user_id=user_id,
            filename=filename,
            content_type=content_type,
            size=size,
            width=width,
            height=height,
            created_at=now,
            has_thumbnail=thumb is not None,
        )

    async def get(self, attachment_id: int) -> StoredAttachment | None:
        found = await self.get_many([attachment_id])
        return found[0] if found else None

    async def get_many(self, ids: Sequence[int]) -> list[StoredAttachment]:
        if not ids:
            return []
        async with self._reads.connect() as conn:
            rows = (
                await conn.execute(select(attachments).where(attachments.c.id.in_(list(ids))))
            ).all()
        return [_stored(r) for r in rows]

    async def of_room(self, room_id: int, before_id: int | None, limit: int) -> list[Attachment]:
        """Sent files of the room (messages not deleted), newest first."""
        query = (
            select(attachments)
            .join(messages, messages.c.id == attachments.c.message_id)
            .where(attachments.c.room_id == room_id, messages.c.deleted_at.is_(None))
        )
        if before_id is not None:
            query = query.where(attachments.c.id < before_id)
        query = query.order_by(attachments.c.id.desc()).limit(limit)
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_stored(r).attachment for r in rows]

    async def usage(self, workspace_id: int) -> int:
        async with self._reads.connect() as conn:
            total = (
                await conn.execute(
                    select(func.coalesce(func.sum(attachments.c.size), 0)).where(
                        attachments.c.workspace_id == workspace_id
                    )
                )
            ).scalar_one()
        return int(total)

    async def unattached_before(self, cutoff: datetime) -> list[StoredAttachment]:
        query = select(attachments).where(
            attachments.c.message_id.is_(None), attachments.c.created_at < cutoff
        )
        async with self._reads.connect() as conn:
            return [_stored(r) for r in (await conn.execute(query.limit(1000))).all()]

    async def gone(self) -> list[StoredAttachment]:
        """Rows of deleted messages or deleted rooms."""
        query = (
            select(attachments)
            .join(rooms, rooms.c.id == attachments.c.room_id)
            .outerjoin(messages, messages.c.id == attachments.c.message_id)
            .where(or_(rooms.c.deleted_at.is_not(None), messages.c.deleted_at.is_not(None)))
            .limit(1000)
        )
        async with self._reads.connect() as conn:
            return [_stored(r) for r in (await conn.execute(query)).all()]

    async def remove(self, ids: Sequence[int]) -> None:
        if ids:
            async with self._engine.begin() as conn:
                await conn.execute(delete(attachments).where(attachments.c.id.in_(list(ids))))

    async def known_keys(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        async with self._reads.connect() as conn:
            rows = (
                await conn.execute(
                    select(attachments.c.storage_key, attachments.c.thumbnail_key).where(
                        or_(
                            attachments.c.storage_key.in_(list(keys)),
                            attachments.c.thumbnail_key.in_(list(keys)),
                        )
                    )
                )
            ).all()
        return {k for row in rows for k in row if k is not None}


async def claim(
    conn: AsyncConnection, message_id: int, room_id: int, user_id: int, ids: Sequence[int]
) -> tuple[Attachment, ...]:
    """Attach the uploads to a new message in its transaction (AttachmentsTaken when one
    is no longer the sender's unsent upload in that room), in the order given (as every
    read shows them)."""
    done = await conn.execute(
        update(attachments)
        .where(
            attachments.c.id.in_(list(ids)),
            attachments.c.room_id == room_id,
            attachments.c.user_id == user_id,
            attachments.c.message_id.is_(None),
        )
        .values(
            message_id=message_id,
            position=case({aid: place for place, aid in enumerate(ids)}, value=attachments.c.id),
        )
    )
    if done.rowcount != len(ids):
        raise AttachmentsTaken(f"{len(ids) - done.rowcount} uploads are no longer free")
    rows = (
        await conn.execute(
            select(attachments)
            .where(attachments.c.id.in_(list(ids)))
            .order_by(attachments.c.position, attachments.c.id)
        )
    ).all()
    return tuple(_stored(r).attachment for r in rows)


async def with_attachments(conn: AsyncConnection, found: list[Message]) -> list[Message]:
    """The messages with their attachments (URLs not minted; a tombstone has none)."""
    ids = [m.id for m in found if m.deleted_at is None]
    if not ids:
        return found
    rows = (
        await conn.execute(
            select(attachments)
            .where(attachments.c.message_id.in_(ids))
            .order_by(attachments.c.message_id, attachments.c.position, attachments.c.id)
        )
    ).all()
    if not rows:
        return found
    by_message: dict[int, list[Attachment]] = {}
    for row in rows:
        by_message.setdefault(row.message_id, []).append(_stored(row).attachment)
    return [
        dataclasses.replace(m, attachments=tuple(by_message[m.id])) if m.id in by_message else m
        for m in found
    ]
