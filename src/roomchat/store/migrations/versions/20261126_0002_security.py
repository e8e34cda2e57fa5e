"""security: username look-alike key, token revocation, ws tickets, workspace invitations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 21:45:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roomchat.store.tables

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = roomchat.store.tables.UtcDateTime(timezone=True)


_CONFUSABLE_CHARS = str.maketrans("01i|-.", "olll__")


def _skeleton(username: str) -> str:
    # A frozen copy of roomchat.domain.names.username_skeleton as of this revision.
    key = unicodedata.normalize("NFKC", username).casefold().translate(_CONFUSABLE_CHARS)
    for sequence, replacement in (("rn", "m"), ("vv", "w"), ("cl", "d")):
        key = key.replace(sequence, replacement)
    return key


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("tokens_valid_after", UtcDateTime, nullable=True))

    # Existing users keep their names; where two already look alike, the later one's
    # key is made unique with its id (it can still log in; no new look-alike can register).
    conn = op.get_bind()
    users = sa.table(
        "users", sa.column("id", BigId), sa.column("username"), sa.column("username_key")
    )
    seen: set[str] = set()
    for row in conn.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)):
        key = _skeleton(row.username)
        if key in seen:
            key = f"{key}#{row.id}"[:64]
        seen.add(key)
        conn.execute(users.update().where(users.c.id == row.id).values(username_key=key))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("username_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_users_username_key"), ["username_key"])

    op.create_table(
        "token_revocations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("issued_before", UtcDateTime, nullable=True),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_token_revocations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_revocations")),
        sa.UniqueConstraint("session_id", name=op.f("uq_token_revocations_session_id")),
    )
    with op.batch_alter_table("token_revocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_token_revocations_user_id"), ["user_id"])
        batch_op.create_index(batch_op.f("ix_token_revocations_expires_at"), ["expires_at"])

    op.create_table(
        "ws_tickets",
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("auth_time", UtcDateTime, nullable=False),
        sa.Column("token_expires_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ws_tickets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("ticket_hash", name=op.f("pk_ws_tickets")),
    )
    with op.batch_alter_table("ws_tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ws_tickets_expires_at"), ["expires_at"])

    op.create_table(
        "workspace_invitations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("workspace_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("invited_by", BigId, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_invitations_workspace_id_workspaces"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_workspace_invitations_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["users.id"], name=op.f("fk_workspace_invitations_invited_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_invitations")),
        sa.UniqueConstraint(
            "workspace_id", "user_id", name="uq_workspace_invitations_workspace_user"
        ),
    )
    with op.batch_alter_table("workspace_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workspace_invitations_user_id"), ["user_id"])


def downgrade() -> None:
    op.drop_table("workspace_invitations")
    op.drop_table("ws_tickets")
    op.drop_table("token_revocations")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_username_key"), type_="unique")
        batch_op.drop_column("tokens_valid_after")
        batch_op.drop_column("username_key")
