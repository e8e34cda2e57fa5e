"""direct conversations: rooms.kind, rooms.direct_members and rooms.direct_key

From this revision (issue 23) a room is a ``room`` or a ``direct`` conversation between
a fixed set of a workspace's members (``POST /api/v1/direct-chats/``). Every room
stored before it is a ``room`` (the column's server default); no direct conversation
exists yet, so ``direct_members`` and ``direct_key`` start null. The unique index on
(workspace_id, direct_key) makes get-or-create race-free: two concurrent creations of
the same set's conversation cannot both commit. Downgrading drops the columns, and
with them every direct conversation's kind: they would read as rooms without a name,
so downgrading deletes them first (their rows stay, with their log, as deleted rooms).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rooms", sa.Column("kind", sa.String(16), nullable=False, server_default="room"))
    op.add_column("rooms", sa.Column("direct_members", sa.String(256), nullable=True))
    op.add_column("rooms", sa.Column("direct_key", sa.String(256), nullable=True))
    op.create_index("uq_rooms_direct_key", "rooms", ["workspace_id", "direct_key"], unique=True)


def downgrade() -> None:
    rooms = sa.table(
        "rooms",
        sa.column("kind", sa.String(16)),
        sa.column("deleted_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        rooms.update()
        .where(rooms.c.kind == "direct", rooms.c.deleted_at.is_(None))
        .values(deleted_at=datetime.now(UTC))
    )
    op.drop_index("uq_rooms_direct_key", table_name="rooms")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("direct_key")
        batch.drop_column("direct_members")
        batch.drop_column("kind")
