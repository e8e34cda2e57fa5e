"""attachments keep the order the sender gave

Until this revision a message's attachments were listed by upload (id) order, whatever
the order of ``attachment_ids``. ``position`` holds each attachment's place in that list,
set by the send that attaches it; reads order by (position, id). Rows attached before
this revision keep ``position`` NULL: within one message they are all NULL (a message's
attachments are attached at once), so they keep their upload order, as the stored events
that show them already do. Downgrading drops the column.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("attachments", sa.Column("position", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("position")
