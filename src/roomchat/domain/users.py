"""Registration, login and access tokens."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from roomchat.domain.models import User
from roomchat.domain.names import has_hidden_characters, normalise_username, username_skeleton
from roomchat.errors import ChatError, Code, not_found, unauthorized
from roomchat.store import Store
from roomchat.store.users import UsernameTaken

JWT_ALGORITHM = "HS256"  # pinned: tokens naming any other algorithm are refused


class UserService:
    def __init__(self, store: Store, jwt_secret: str, token_ttl_seconds: int) -> None:
        self._store = store
        self._secret = jwt_secret
        self._ttl = token_ttl_seconds
        self._hasher = PasswordHasher()
        # Hashing a dummy keeps failed logins for unknown users as slow as wrong passwords.
        self._dummy_hash = self._hasher.hash("roomchat-timing-equaliser")

    async def register(self, username: str, password: str, display_name: str | None) -> User:
        canonical = normalise_username(username)
        if canonical is None:
            raise ChatError(
                Code.VALIDATION_ERROR,
                "username must be 3-32 letters, digits, '_', '.' or '-'",
            )
        if not 8 <= len(password) <= 128:
            raise ChatError(Code.VALIDATION_ERROR, "password must be 8-128 characters")
        name = (display_name or "").strip() or username
        if len(name) > 64:
            raise ChatError(Code.VALIDATION_ERROR, "display_name must be at most 64 characters")
        if has_hidden_characters(name):  # NUL, newlines, RTL overrides, zero-width...
            raise ChatError(
                Code.VALIDATION_ERROR, "display_name must not contain control or format characters"
            )
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        try:
            return await self._store.users.create(
                canonical, username_skeleton(canonical), name, password_hash
            )
        except UsernameTaken:
            raise ChatError(
                Code.CONFLICT, "that username is taken (or looks like one that is)"
            ) from None

    async def login(self, username: str, password: str) -> User:
        credentials = await self._store.users.credentials(username.lower())
        stored = credentials.password_hash if credentials else self._dummy_hash
        try:
            await asyncio.to_thread(self._hasher.verify, stored, password)
        except (VerifyMismatchError, InvalidHashError):
            credentials = None
        if credentials is None:
            raise unauthorized("wrong username or password")
        if self._hasher.check_needs_rehash(stored):
            new_hash = await asyncio.to_thread(self._hasher.hash, password)
            await self._store.users.update_password_hash(credentials.user.id, new_hash)
        return credentials.user

    def issue_token(self, user: User) -> str:
        now = int(time.time())
        claims = {"sub": str(user.id), "iat": now, "exp": now + self._ttl}
        return jwt.encode(claims, self._secret, algorithm=JWT_ALGORITHM)

    def user_id_from_token(self, token: str) -> int:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[JWT_ALGORITHM],
                options={"require": ["exp", "sub"]},
            )
            return int(claims["sub"])
        except (jwt.PyJWTError, ValueError):
            raise unauthorized("missing, invalid or expired token") from None

    async def authenticate(self, token: str) -> User:
        user = await self._store.users.get(self.user_id_from_token(token))
        if user is None:
            raise unauthorized("the token's user no longer exists")
        return user

    async def get(self, user_id: int) -> User:
        user = await self._store.users.get(user_id)
        if user is None:
            raise not_found("user")
        return user
