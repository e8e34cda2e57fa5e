"""read state: room_users.last_read_seq, users.share_read_receipts

Members who were in a room before this revision start with everything read
(last_read_seq = the room's seq now): a backlog of years would otherwise show up as
unread the day the feature arrives.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("room_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_read_seq", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute(
        sa.text(
            "UPDATE room_users SET last_read_seq ="
            " (SELECT rooms.last_seq FROM rooms WHERE rooms.id = room_users.room_id)"
        )
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("share_read_receipts", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("share_read_receipts")
    with op.batch_alter_table("room_users", schema=None) as batch_op:
        batch_op.drop_column("last_read_seq")
