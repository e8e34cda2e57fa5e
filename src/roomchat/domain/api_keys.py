"""API keys: how a workspace owner's backend calls the REST API (docs/server-api.md).

A key is ``rck_`` and 256 random bits (43 url-safe characters), shown once when it is
made; only its SHA-256 is stored. Each key comes with a bot user of its own, named
``bot-`` and random hex (a name no person can register: domain/names.py), shown by
the key's name: a request with the key acts as that bot, a member of the key's
workspace with the role "bot" (domain/roles.py says what it may do). Every request
reads the key's row, so a revoked key is refused by every instance from the moment
the revocation commits. Revoking takes the bot out of the workspace and its rooms in
the same transaction (a dead bot is no member of anything); its user stays, the
author of what it posted. An owner makes a bounded number of keys per hour and day.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from roomchat.domain.events import RoomEvent
from roomchat.domain.models import ApiKey, User
from roomchat.domain.names import BOT_PREFIX, username_skeleton
from roomchat.domain.outcome import Outcome, outcome
from roomchat.domain.ports import Storage
from roomchat.domain.rate_limits import RateLimiter
from roomchat.domain.records import BotNameTaken, NewKey, TooManyKeys
from roomchat.domain.roles import BOT
from roomchat.domain.sessions import secret_hash
from roomchat.domain.workspaces import WorkspaceService, clean_name
from roomchat.errors import ChatError, Code, not_found, unauthorized

KEY_PREFIX = "rck_"
# Listed with each key to tell keys apart: "rck_" and 8 of its characters (208 of its
# 256 random bits stay unknown).
SHOWN_CHARS = len(KEY_PREFIX) + 8
MAX_KEY_CHARS = 128  # ours are 47; anything far longer is not worth hashing
MAX_NAME_CHARS = 64  # the name is the bot's display name, which is at most this
# Stored as a bot's password hash: argon2 refuses it as a hash, so no password, and no
# login, ever matches a bot.
NO_PASSWORD = "!"
# last_used_at is written when the stored one is older than this: at most one write a
# minute per key, however busy it is.
LAST_USED_EVERY = timedelta(minutes=1)
BOT_NAME_TRIES = 3  # random names: a second try is already a one-in-a-trillion event


def is_api_key(token: str) -> bool:
    """Whether a bearer credential is an API key (else: an access token)."""
    return token.startswith(KEY_PREFIX)


def clean_key_name(name: str) -> str:
    if not 1 <= len(name.strip()) <= MAX_NAME_CHARS:
        raise ChatError(Code.VALIDATION_ERROR, f"name must be 1-{MAX_NAME_CHARS} characters")
    return clean_name(name, "name")  # and no hidden characters


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just made: the only time the key itself is shown."""

    key: str
    api_key: ApiKey

    def to_dict(self) -> dict[str, Any]:
        return {**self.api_key.to_dict(), "key": self.key}


class ApiKeyService:
    def __init__(
        self,
        store: Storage,
        workspaces: WorkspaceService,
        per_workspace: int,
        limiter: RateLimiter,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        creations: RateLimiter | None = None,
    ) -> None:
        self._store = store
        self._workspaces = workspaces
        self._per_workspace = per_workspace
        self._limiter = limiter  # requests per key
        self._clock = clock
        # Keys an owner makes (each makes a user that is never deleted); None: not
        # limited (the operator's command).
        self._creations = creations

    async def _require_owner(self, user: User, workspace_id: int) -> None:
        await self._workspaces.require_owner(
            user, workspace_id, "only the workspace owner manages its API keys"
        )

    async def create(self, owner: User, workspace_id: int, name: str) -> IssuedKey:
        await self._require_owner(owner, workspace_id)
        name = clean_key_name(name)  # bad input changes nothing, not even the count
        if self._creations is not None:
            self._creations.hit(str(owner.id))
        return await self.create_as_operator(workspace_id, name)

    async def create_as_operator(self, workspace_id: int, name: str) -> IssuedKey:
        """A key for the workspace, with no owner to check (``roomchat api-keys create``)."""
        name = clean_key_name(name)
        for _ in range(BOT_NAME_TRIES):
            key = KEY_PREFIX + secrets.token_urlsafe(32)
            username = BOT_PREFIX + secrets.token_hex(5)
            new = NewKey(
                workspace_id=workspace_id,
                name=name,
                prefix=key[:SHOWN_CHARS],
                key_hash=secret_hash(key),
                bot_username=username,
                bot_username_key=username_skeleton(username),
                bot_password_hash=NO_PASSWORD,
                bot_role=BOT,
            )
            try:
                made = await self._store.api_keys.create(new, self._per_workspace, self._clock())
            except BotNameTaken:
                continue
            except LookupError:
                raise not_found("workspace") from None
            except TooManyKeys:
                raise ChatError(
                    Code.CONFLICT,
                    f"a workspace has at most {self._per_workspace} API keys in use; "
                    "revoke one first",
                ) from None
            return IssuedKey(key, made)
        raise RuntimeError("no free bot username after several random tries")

    async def keys(self, owner: User, workspace_id: int) -> list[ApiKey]:
        await self._require_owner(owner, workspace_id)
        return await self._store.api_keys.of_workspace(workspace_id)

    async def revoke(self, owner: User, workspace_id: int, key_id: int) -> Outcome[ApiKey]:
        """The key revoked; the events: its bot's ``room_member_left``."""
        await self._require_owner(owner, workspace_id)
        revoked, events = await self._revoke(key_id, workspace_id, owner.id)
        return outcome(revoked, *events)

    async def revoke_as_operator(self, key_id: int) -> ApiKey:
        """Revoke any key (``roomchat api-keys revoke``). Its bot's departures are in
        the room event log; instances find them there (no server runs this)."""
        revoked, _ = await self._revoke(key_id, None, None)
        return revoked

    async def _revoke(
        self, key_id: int, workspace_id: int | None, revoked_by: int | None
    ) -> tuple[ApiKey, list[RoomEvent]]:
        async with self._store.transaction() as tx:
            found = await tx.api_keys.revoke(key_id, workspace_id, self._clock())
            if found is None:
                raise not_found("API key")
            # Again for a key revoked before: a bot left behind then leaves now. With no
            # one revoking (the operator), the bot is the one who left.
            removed_by = found.bot_id if revoked_by is None else revoked_by
            events = await self._workspaces.remove_bots(
                tx, found.workspace_id, [found.bot_id], removed_by
            )
        revoked = await self._store.api_keys.get(key_id)
        assert revoked is not None  # keys are never deleted
        return revoked, events

    async def authenticate(self, key: str) -> User:
        """The bot a key acts as; 401 for an unknown or revoked key, 429 past its limit."""
        if not (is_api_key(key) and len(key) <= MAX_KEY_CHARS):
            raise unauthorized("invalid API key")
        holder = await self._store.api_keys.holder(secret_hash(key))
        if holder is None:
            raise unauthorized("unknown or revoked API key")
        self._limiter.hit(str(holder.key_id))
        now = self._clock()
        if holder.last_used_at is None or now - holder.last_used_at >= LAST_USED_EVERY:
            await self._store.api_keys.touch(holder.key_id, now)
        return holder.bot
