"""Token revocations and single-use WebSocket tickets: what every instance must agree on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from roomchat.domain.records import Revocation as Revocation
from roomchat.domain.records import Ticket as Ticket
from roomchat.domain.records import TokenOwner as TokenOwner
from roomchat.store.database import reads_of
from roomchat.store.rows import USER_COLUMNS, user_from
from roomchat.store.tables import token_revocations, users, ws_tickets


class TokenRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def owner(self, user_id: int, session_id: str) -> TokenOwner | None:
        """The user and the token's session's revocation state in one round trip."""
        revoked = (
            exists().where(token_revocations.c.session_id == session_id).label("session_revoked")
        )
        query = select(*USER_COLUMNS, users.c.tokens_valid_after, revoked).where(
            users.c.id == user_id
        )
        async with self._reads.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return TokenOwner(user_from(row), row.tokens_valid_after, bool(row.session_revoked))

    async def revoke(
        self, user_id: int, session_id: str, expires_at: datetime, now: datetime
    ) -> None:
        """Refuse one session's tokens from now on; its tickets go with them."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(token_revocations).values(
                        user_id=user_id,
                        session_id=session_id,
                        expires_at=expires_at,
                        revoked_at=now,
                    )
                )
                await conn.execute(delete(ws_tickets).where(ws_tickets.c.session_id == session_id))
        except IntegrityError:
            pass  # already revoked (a retried logout)

    async def revoke_all(self, user_id: int, until: datetime, now: datetime) -> None:
        """Refuse the user's tokens issued before ``now``; ``until``: when the last expires."""
        async with self._engine.begin() as conn:
            await conn.execute(
                update(users).where(users.c.id == user_id).values(tokens_valid_after=now)
            )
            await conn.execute(
                insert(token_revocations).values(
                    user_id=user_id, issued_before=now, expires_at=until, revoked_at=now
                )
            )
            await conn.execute(delete(ws_tickets).where(ws_tickets.c.user_id == user_id))

    async def last_revocation_id(self) -> int:
        async with self._reads.connect() as conn:
            value = (
                await conn.execute(
                    select(token_revocations.c.id).order_by(token_revocations.c.id.desc()).limit(1)
                )
            ).scalar()
        return int(value or 0)

    async def revocations_after(self, after_id: int, limit: int = 1000) -> list[Revocation]:
        query = (
            select(token_revocations)
            .where(token_revocations.c.id > after_id)
            .order_by(token_revocations.c.id)
            .limit(limit)
        )
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Revocation(r.id, r.user_id, r.session_id, r.issued_before, r.revoked_at) for r in rows
        ]

    async def add_ticket(self, ticket_hash: str, ticket: Ticket) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(ws_tickets).values(
                    ticket_hash=ticket_hash,
                    user_id=ticket.user_id,
                    session_id=ticket.session_id,
                    auth_time=ticket.auth_time,
                    token_expires_at=ticket.token_expires_at,
                    expires_at=ticket.expires_at,
                )
            )

    async def redeem_ticket(self, ticket_hash: str, now: datetime) -> Ticket | None:
        """Delete the ticket and return it, if it was there and still fresh: usable once."""
        statement = (
            delete(ws_tickets)
            .where(ws_tickets.c.ticket_hash == ticket_hash)
            .returning(
                ws_tickets.c.user_id,
                ws_tickets.c.session_id,
                ws_tickets.c.auth_time,
                ws_tickets.c.token_expires_at,
                ws_tickets.c.expires_at,
            )
        )
        async with self._engine.begin() as conn:
            row = (await conn.execute(statement)).first()
        if row is None or row.expires_at <= now:
            return None
        return Ticket(
            row.user_id, row.session_id, row.auth_time, row.token_expires_at, row.expires_at
        )

    async def prune(self, now: datetime) -> None:
        """Forget revocations of tokens that have expired anyway, and stale tickets."""
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(token_revocations).where(token_revocations.c.expires_at < now)
            )
            await conn.execute(delete(ws_tickets).where(ws_tickets.c.expires_at < now))
