"""Registration and login (access tokens: domain/sessions.py)."""

from __future__ import annotations

import asyncio
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from roomchat.domain.models import User
from roomchat.domain.names import (
    BOT_PREFIX,
    has_hidden_characters,
    normalise_username,
    reads_as_bot,
    renders_as_nothing,
    username_skeleton,
)
from roomchat.domain.outcome import Outcome
from roomchat.domain.ports import Storage
from roomchat.domain.rate_limits import RateLimiter
from roomchat.domain.records import UsernameTaken
from roomchat.domain.sidebar import user_updated
from roomchat.domain.throttle import LoginThrottle
from roomchat.errors import ChatError, Code, not_found, unauthorized

MIN_PASSWORD_CHARS = 8
MAX_DISPLAY_NAME_CHARS = 64


def clean_display_name(raw: str) -> str:
    """A display name as people will read it, checked as usernames are for what hides or
    reorders text: trimmed, at most MAX_DISPLAY_NAME_CHARS, no control or format
    characters, not blank-looking ("" for an empty one: the caller decides)."""
    name = unicodedata.normalize("NFC", raw).strip()
    if len(name) > MAX_DISPLAY_NAME_CHARS:
        raise ChatError(
            Code.VALIDATION_ERROR,
            f"display_name must be at most {MAX_DISPLAY_NAME_CHARS} characters",
        )
    if has_hidden_characters(name):  # NUL, newlines, RTL overrides, zero-width...
        raise ChatError(
            Code.VALIDATION_ERROR, "display_name must not contain control or format characters"
        )
    if name and renders_as_nothing(name):
        raise ChatError(Code.VALIDATION_ERROR, "display_name must show something")
    return name


class UserService:
    def __init__(
        self,
        store: Storage,
        throttle: LoginThrottle,
        hasher: PasswordHasher,
        max_password_chars: int = 128,
        *,
        profile_changes: RateLimiter | None = None,
        origin: str = "",
    ) -> None:
        self._store = store
        # Per user: each change is a signal to every room they are in (None: unlimited).
        self._profile_changes = profile_changes
        self._origin = origin
        self._throttle = throttle
        self._max_password = max_password_chars
        self._hasher = hasher
        # Hashing a dummy keeps failed logins for unknown users as slow as wrong passwords.
        self._dummy_hash = self._hasher.hash("roomchat-timing-equaliser")

    def _check_password_length(self, password: str) -> None:
        # Before any hashing: argon2 over a 150 MB password is the attack itself.
        if not MIN_PASSWORD_CHARS <= len(password) <= self._max_password:
            raise ChatError(
                Code.VALIDATION_ERROR,
                f"password must be {MIN_PASSWORD_CHARS}-{self._max_password} characters",
            )

    async def register(
        self, username: str, password: str, display_name: str | None, address: str = ""
    ) -> User:
        self._throttle.register(address)
        canonical = normalise_username(username)
        if canonical is None:
            raise ChatError(
                Code.VALIDATION_ERROR,
                "username must be 3-32 letters, digits, '_', '.' or '-'",
            )
        if reads_as_bot(canonical):
            raise ChatError(
                Code.VALIDATION_ERROR, f"usernames starting with {BOT_PREFIX!r} are the bots'"
            )
        self._check_password_length(password)
        name = clean_display_name(display_name or "") or canonical
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        try:
            return await self._store.users.create(
                canonical, username_skeleton(canonical), name, password_hash
            )
        except UsernameTaken:
            raise ChatError(
                Code.CONFLICT, "that username is taken (or looks like one that is)"
            ) from None

    async def login(self, username: str, password: str, address: str = "") -> User:
        """The user, or 401; failures are throttled per account and per client address."""
        if len(password) > self._max_password:
            self._check_password_length(password)
        canonical = normalise_username(username)  # None for NUL, spaces, "alice\n"...
        attempt = self._throttle.begin_login(canonical, address)
        user: User | None = None
        try:
            user = await self._verify(canonical, password)
        finally:
            self._throttle.end_login(attempt, failed=user is None)
        if user is None:
            raise unauthorized("wrong username or password")
        return user

    async def _verify(self, canonical: str | None, password: str) -> User | None:
        credentials = await self._store.users.credentials(canonical) if canonical else None
        stored = credentials.password_hash if credentials else self._dummy_hash
        try:
            await asyncio.to_thread(self._hasher.verify, stored, password)
        except (VerifyMismatchError, InvalidHashError):
            return None
        if credentials is None:
            return None
        if self._hasher.check_needs_rehash(stored):
            new_hash = await asyncio.to_thread(self._hasher.hash, password)
            await self._store.users.update_password_hash(credentials.user.id, new_hash)
        return credentials.user

    async def by_username(self, username: str) -> User | None:
        """The user a typed name stands for (NFKC, case-folded), or None."""
        canonical = normalise_username(username)
        return await self._store.users.by_username(canonical) if canonical else None

    async def get(self, user_id: int) -> User:
        user = await self._store.users.get(user_id)
        if user is None:
            raise not_found("user")
        return user

    async def update_profile(
        self, user: User, display_name: str | None = None, avatar_url: str | None = None
    ) -> Outcome[User]:
        """Change the display name and/or the picture; ``user_updated`` reaches the rooms
        the user is in, their workspaces' followers and their own connections."""
        if display_name is not None:
            display_name = clean_display_name(display_name)
            if not display_name:
                raise ChatError(Code.VALIDATION_ERROR, "display_name must not be blank")
        if self._profile_changes is not None:
            self._profile_changes.hit(str(user.id))
        changed = await self._store.users.update_profile(user.id, display_name, avatar_url)
        if changed is None:
            raise not_found("user")
        if changed == user:
            return Outcome(changed)  # nothing new to tell
        room_ids, workspace_ids = await self._store.workspaces.room_ids_of(user.id)
        return Outcome(
            changed, signals=user_updated(changed, room_ids, workspace_ids, self._origin)
        )
