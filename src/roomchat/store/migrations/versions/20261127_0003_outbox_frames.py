"""outbox rows hold the whole broadcast frame, so any kind of room event fits

Before, an outbox row's payload was a new message's encoded data and the relay put the
``new_room_chat_message`` envelope around it; now it is the frame itself, whatever the
event's action. Rows waiting at upgrade time (the bus was down) are wrapped here, so
they are published as they would have been. No table changes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of roomchat.domain.events' envelope as of this revision.
_HEAD = b'{"action":"new_room_chat_message","status":"success","data":'
_TAIL = b"}"
_FRAME = b'{"action":'

outbox = sa.table(
    "outbox",
    sa.column("id", sa.BigInteger()),
    sa.column("payload", sa.LargeBinary()),
)


def _rewrite(change: bool) -> None:
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(outbox.c.id, outbox.c.payload)
            .where(outbox.c.id > last)
            .order_by(outbox.c.id)
            .limit(500)
        ).all()
        if not rows:
            return
        for row in rows:
            payload = bytes(row.payload)
            where = outbox.c.id == row.id
            if change and not payload.startswith(_FRAME):
                conn.execute(outbox.update().where(where).values(payload=_HEAD + payload + _TAIL))
            elif not change and payload.startswith(_HEAD) and payload.endswith(_TAIL):
                payload = payload[len(_HEAD) : -len(_TAIL)]
                conn.execute(outbox.update().where(where).values(payload=payload))
            elif not change and payload.startswith(_FRAME):
                # Only new messages had outbox rows before; other events cannot go back.
                conn.execute(outbox.delete().where(where))
        last = rows[-1].id


def upgrade() -> None:
    _rewrite(change=True)


def downgrade() -> None:
    _rewrite(change=False)
