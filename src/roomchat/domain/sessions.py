"""Access tokens, their revocation, and single-use WebSocket connection tickets.

A token is an HS256 JWT with ``iss``, ``aud``, ``sub`` (the user id), ``iat``,
``exp``, a ``jti`` of its own, and the session it belongs to: ``sid`` and
``auth_time``, set at login and carried over by every refresh. Every claim is
required and checked (RFC 8725). A token stops counting at its expiry, when its
session is revoked (log out: every token refreshed from that login goes with it),
or when it was issued before the user's ``tokens_valid_after`` (log out
everywhere). Refreshing never extends a session past ``auth_time`` plus the
session's maximum age: then the user logs in again.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import jwt

from roomchat.domain.models import MAX_ID, User
from roomchat.domain.ports import Storage
from roomchat.domain.records import Revocation, Ticket
from roomchat.errors import ChatError, Code, unauthorized

JWT_ALGORITHM = "HS256"  # pinned: tokens naming any other algorithm are refused
REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "jti", "sid", "auth_time"]
MAX_TOKEN_CHARS = 4096  # ours are ~300; anything far longer is not worth decoding
_USER_ID = re.compile(r"[1-9][0-9]{0,18}")  # plain ASCII decimal: no sign, space or other digits
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # jti and sid
_BAD_TOKEN = "missing, invalid or expired token"
_BAD_TICKET = "unknown, used or expired ticket"


class Refusal(StrEnum):
    """Why a credential was refused, in the words a client acts on (the reason of the
    WebSocket's 4401 close; docs/protocol.md "Close codes"). Each says only what the
    client can already know: ``token_expired`` is told only of a token whose signature
    checked out, so it reveals nothing a forger could use."""

    TOKEN_MISSING = "token_missing"  # no credential at all: get one
    TOKEN_INVALID = "token_invalid"  # malformed, forged, or its user is gone: get a new one
    TOKEN_EXPIRED = "token_expired"  # refresh it (or log in again)
    TOKEN_REVOKED = "token_revoked"  # its login session was logged out: log in again
    TICKET_USED = "ticket_used"  # a ticket unknown, expired or redeemed already: take a new one


class Refused(ChatError):
    """``unauthorized`` with its ``reason``: REST answers the same 401 whatever the reason
    (its body is the ChatError's), the WebSocket closes with the reason."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(Code.UNAUTHORIZED, message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Session:
    """Who a token (or a ticket redeemed for one) speaks for, and for how long."""

    user: User
    sid: str  # the login session: shared by every token refreshed from it
    auth_time: float  # when the user logged in (epoch seconds)
    issued_at: float  # when this token was issued
    expires_at: float


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    session: Session
    expires_in: int


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def secret_hash(secret: str) -> str:
    """How a random secret is stored (tickets, API keys): one is 256 random bits, so a
    plain hash suffices, no salt or slow hash needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


class SessionService:
    def __init__(
        self,
        store: Storage,
        secret: str,
        ttl_seconds: int,
        *,
        issuer: str,
        audience: str,
        ticket_ttl_seconds: float = 30.0,
        session_max_age_seconds: int = 30 * 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._secret = secret
        self._ttl = ttl_seconds
        self._issuer = issuer
        self._audience = audience
        self._ticket_ttl = ticket_ttl_seconds
        self._max_age = session_max_age_seconds
        self._clock = clock
        self._on_revoked: list[Callable[[], None]] = []

    def on_revoked(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after a logout stored its revocation (this instance's
        sockets need not wait for the next poll)."""
        self._on_revoked.append(listener)

    def issue(self, user: User) -> IssuedToken:
        """A token for a new login session."""
        now = self._clock()
        return self._issue(user, secrets.token_urlsafe(16), now, now)

    def _issue(self, user: User, sid: str, auth_time: float, now: float) -> IssuedToken:
        expires_at = min(int(now) + self._ttl, int(auth_time) + self._max_age)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user.id),
            # Fractional: "log out everywhere" must not spare a token of the same second.
            "iat": now,
            "exp": expires_at,
            "jti": secrets.token_urlsafe(16),
            "sid": sid,
            "auth_time": auth_time,
        }
        token = jwt.encode(claims, self._secret, algorithm=JWT_ALGORITHM)
        session = Session(user, sid, auth_time, now, expires_at)
        return IssuedToken(token, session, max(0, int(expires_at - now)))

    def _claims(self, token: str) -> tuple[int, str, float, float, float]:
        if not token:
            raise Refused(Refusal.TOKEN_MISSING, _BAD_TOKEN)
        invalid = Refused(Refusal.TOKEN_INVALID, _BAD_TOKEN)
        if len(token) > MAX_TOKEN_CHARS:
            raise invalid
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[JWT_ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            # PyJWT checks the signature (and that every claim is there) before the
            # expiry: only a token we issued gets this far.
            raise Refused(Refusal.TOKEN_EXPIRED, _BAD_TOKEN) from None
        except jwt.PyJWTError:
            raise invalid from None
        sub, jti, sid = claims["sub"], claims["jti"], claims["sid"]
        if not (isinstance(sub, str) and _USER_ID.fullmatch(sub) and int(sub) <= MAX_ID):
            raise invalid
        if not all(isinstance(v, str) and _ID.fullmatch(v) for v in (jti, sid)):
            raise invalid
        iat, auth_time = claims["iat"], claims["auth_time"]
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (iat, auth_time)
        ):
            raise invalid
        return int(sub), sid, float(auth_time), float(iat), float(claims["exp"])

    async def authenticate(self, token: str) -> Session:
        """The session a token stands for; ``Refused`` (401) when missing, expired, forged
        or revoked."""
        return await self._session(*self._claims(token))

    async def _session(
        self, user_id: int, sid: str, auth_time: float, issued_at: float, expires_at: float
    ) -> Session:
        owner = await self._store.tokens.owner(user_id, sid)
        if owner is None:
            raise Refused(Refusal.TOKEN_INVALID, "the token's user no longer exists")
        valid_after = owner.tokens_valid_after
        if owner.session_revoked or (
            valid_after is not None and issued_at < valid_after.timestamp()
        ):
            raise Refused(Refusal.TOKEN_REVOKED, "the token was revoked (logged out)")
        return Session(owner.user, sid, auth_time, issued_at, expires_at)

    def refresh(self, session: Session) -> IssuedToken:
        """A new token of the same session (the old one stays valid until it expires,
        so sockets opened with it live on); never past the session's maximum age."""
        now = self._clock()
        if session.auth_time + self._max_age - now < 60:
            raise unauthorized("the session is too old to refresh; log in again")
        return self._issue(session.user, session.sid, session.auth_time, now)

    async def logout(self, session: Session, everywhere: bool = False) -> None:
        now = self._clock()
        if everywhere:
            # The revocation row must outlive every token it names: the newest
            # token issued before now expires within one ttl.
            await self._store.tokens.revoke_all(session.user.id, _utc(now + self._ttl), _utc(now))
        else:
            # The row must outlive every token of the session: none lives past its max age.
            until = _utc(session.auth_time + self._max_age)
            await self._store.tokens.revoke(session.user.id, session.sid, until, _utc(now))
        for listener in self._on_revoked:
            listener()

    async def issue_ticket(self, session: Session) -> tuple[str, int]:
        """A single-use ticket to open one WebSocket as this session, and its lifetime."""
        now = self._clock()
        expires_at = min(now + self._ticket_ttl, session.expires_at)
        ticket = secrets.token_urlsafe(32)
        await self._store.tokens.add_ticket(
            secret_hash(ticket),
            Ticket(
                session.user.id,
                session.sid,
                _utc(session.auth_time),
                _utc(session.expires_at),
                _utc(expires_at),
            ),
        )
        return ticket, max(0, int(expires_at - now))

    async def redeem_ticket(self, ticket: str) -> Session:
        """The session a ticket was issued for; the ticket is used up either way.
        ``Refused`` (401): ``ticket_used`` for a ticket unknown, used or expired (a ticket
        dies with its token, so one whose token expired is expired too), else as for
        its token."""
        if not ticket or len(ticket) > 128:
            raise Refused(Refusal.TICKET_USED, _BAD_TICKET)
        now = self._clock()
        found = await self._store.tokens.redeem_ticket(secret_hash(ticket), _utc(now))
        if found is None or found.token_expires_at.timestamp() <= now:
            raise Refused(Refusal.TICKET_USED, _BAD_TICKET)
        # The ticket's issue time stands in for its token's: a ticket is only issued
        # for a token that counted then, and revoking tokens deletes their tickets.
        issued_at = found.expires_at.timestamp() - self._ticket_ttl
        return await self._session(
            found.user_id,
            found.session_id,
            found.auth_time.timestamp(),
            issued_at,
            found.token_expires_at.timestamp(),
        )

    async def last_revocation_id(self) -> int:
        return await self._store.tokens.last_revocation_id()

    async def revocations_after(self, after_id: int, limit: int) -> list[Revocation]:
        return await self._store.tokens.revocations_after(after_id, limit)

    async def prune(self) -> None:
        await self._store.tokens.prune(_utc(self._clock()))
