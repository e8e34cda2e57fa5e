"""edits, deletes, reactions, room changes: the state the room event log keeps current

messages.edited_at / deleted_at (a deleted message is a tombstone: text null),
rooms.deleted_at (a deleted room answers not_found), message_reactions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roomchat.store.tables

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = roomchat.store.tables.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", UtcDateTime, nullable=True))
        batch_op.add_column(sa.Column("deleted_at", UtcDateTime, nullable=True))
        batch_op.alter_column("message_text", existing_type=sa.Text(), nullable=True)
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", UtcDateTime, nullable=True))
    op.create_table(
        "message_reactions",
        sa.Column("message_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("reaction", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_reactions_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_message_reactions_user_id_users")
        ),
        sa.PrimaryKeyConstraint(
            "message_id", "user_id", "reaction", name=op.f("pk_message_reactions")
        ),
    )


def downgrade() -> None:
    op.drop_table("message_reactions")
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
    # Tombstones have no text to give back: they come back as empty strings.
    op.execute(sa.text("UPDATE messages SET message_text = '' WHERE message_text IS NULL"))
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("message_text", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("edited_at")
