"""revoked keys' bots leave: a dead bot is no member of its workspace or its rooms

From this revision revoking an API key takes its bot out of the workspace and of its
rooms (a ``room_member_left`` for each room), in the revocation's transaction. The
bots of keys revoked before it are still members: upgrading does for them what
revoking does now, so member lists lose the dead bots (issue 20: a hundred of them
after a hundred create-and-revoke cycles). Each departure is a room event on its
room's seq, in the event log (instances that missed it read it there, as they read
any event the bus did not bring); the bot users stay, the authors of what they
posted. Nothing else changes. Downgrading changes nothing: the departures stay.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa
from alembic import op

import roomchat.store.tables

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MEMBER_LEFT = "room_member_left"
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS  # roomchat.jsoncodec's
UtcDateTime = roomchat.store.tables.UtcDateTime(timezone=True)

# The tables as this revision has them (not roomchat.store.tables, which may change).
_meta = sa.MetaData()
_keys = sa.Table(
    "api_keys",
    _meta,
    sa.Column("workspace_id", sa.BigInteger),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)
_members = sa.Table(
    "workspace_members",
    _meta,
    sa.Column("workspace_id", sa.BigInteger),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("role", sa.String(16)),
)
_rooms = sa.Table(
    "rooms",
    _meta,
    sa.Column("id", sa.BigInteger),
    sa.Column("workspace_id", sa.BigInteger),
    sa.Column("last_seq", sa.BigInteger),
    sa.Column("deleted_at", sa.DateTime(timezone=True)),
)
_room_users = sa.Table(
    "room_users",
    _meta,
    sa.Column("room_id", sa.BigInteger),
    sa.Column("user_id", sa.BigInteger),
)
_events = sa.Table(
    "room_events",
    _meta,
    sa.Column("room_id", sa.BigInteger),
    sa.Column("seq", sa.BigInteger),
    sa.Column("action", sa.String(64)),
    sa.Column("data", sa.LargeBinary),
    sa.Column("created_at", UtcDateTime),
)


def _left_data(room_id: int, seq: int, bot_id: int) -> bytes:
    """``room_member_left`` data as the live code writes it (domain.room_changes);
    ``removed_by`` is the bot: no one is known to have removed it."""
    data = {"room_id": room_id, "seq": seq, "user_id": bot_id, "removed_by": bot_id}
    return orjson.dumps(data, option=_OPTIONS)


def upgrade() -> None:
    conn = op.get_bind()
    dead = conn.execute(
        sa.select(_members.c.workspace_id, _members.c.user_id)
        .join(
            _keys,
            (_keys.c.user_id == _members.c.user_id)
            & (_keys.c.workspace_id == _members.c.workspace_id),
        )
        .where(_members.c.role == "bot", _keys.c.revoked_at.is_not(None))
        .order_by(_members.c.workspace_id, _members.c.user_id)
    ).all()
    now = datetime.now(UTC)
    for workspace_id, bot_id in dead:
        live_rooms = sa.select(_rooms.c.id).where(
            _rooms.c.workspace_id == workspace_id, _rooms.c.deleted_at.is_(None)
        )
        rooms = conn.execute(
            sa.select(_room_users.c.room_id)
            .where(_room_users.c.user_id == bot_id, _room_users.c.room_id.in_(live_rooms))
            .order_by(_room_users.c.room_id)
        ).scalars()
        for room_id in list(rooms):
            seq = conn.execute(
                sa.update(_rooms)
                .where(_rooms.c.id == room_id)
                .values(last_seq=_rooms.c.last_seq + 1)
                .returning(_rooms.c.last_seq)
            ).scalar_one()
            conn.execute(
                sa.insert(_events).values(
                    room_id=room_id,
                    seq=seq,
                    action=_MEMBER_LEFT,
                    data=_left_data(room_id, seq, bot_id),
                    created_at=now,
                )
            )
            conn.execute(
                sa.delete(_room_users).where(
                    _room_users.c.room_id == room_id, _room_users.c.user_id == bot_id
                )
            )
        conn.execute(
            sa.delete(_members).where(
                _members.c.workspace_id == workspace_id,
                _members.c.user_id == bot_id,
                _members.c.role == "bot",
            )
        )


def downgrade() -> None:
    pass  # the departures stay: a revoked key's bot has nothing to come back to
