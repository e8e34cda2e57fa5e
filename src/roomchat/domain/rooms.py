"""Rooms inside a workspace: creation, listing, joining (passcode, link) and members."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from roomchat.domain.models import Room, RoomUser, RoomView, User
from roomchat.domain.workspaces import WorkspaceService, clean_name
from roomchat.errors import ChatError, Code, forbidden, not_found
from roomchat.store import Store
from roomchat.store.rooms import RoomAccess

MEMBER_CACHE_SIZE = 200_000
# How long a remembered "is a member" holds before the database is asked again. A
# member who leaves the workspace is forgotten at once on the instance that handled
# the leave; other instances notice within this time (docs/protocol.md).
MEMBER_CACHE_TTL_S = 10.0


class RoomService:
    def __init__(
        self,
        store: Store,
        workspaces: WorkspaceService,
        passcode_max_failures: int,
        passcode_window: timedelta,
        clock: Callable[[], float] = time.monotonic,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._store = store
        self._workspaces = workspaces
        self._max_failures = passcode_max_failures
        self._window = passcode_window
        self._hasher = hasher or PasswordHasher()
        self._clock = clock
        # Confirmed room members, with their room and when that was read, so a rejoin
        # or a send needs no database read. Rooms are not renamed; a member leaves
        # only by leaving the workspace, which forgets them here (and, on another
        # instance, the entry's age does: see MEMBER_CACHE_TTL_S).
        self._members: dict[tuple[int, int], tuple[Room, float]] = {}
        workspaces.on_member_left(self._forget)

    async def create(self, user: User, workspace_id: int, name: str, passcode: str | None) -> Room:
        await self._workspaces.require_member(user, workspace_id)
        name = clean_name(name, "name")
        passcode_hash = None
        if passcode is not None and passcode != "":
            if not 4 <= len(passcode) <= 64:
                raise ChatError(Code.VALIDATION_ERROR, "passcode must be 4-64 characters")
            passcode_hash = await asyncio.to_thread(self._hasher.hash, passcode)
        return await self._store.rooms.create(
            workspace_id, name, user.id, passcode_hash, secrets.token_urlsafe(24)
        )

    async def in_workspace(self, user: User, workspace_id: int) -> list[RoomView]:
        await self._workspaces.require_member(user, workspace_id)
        return await self._store.rooms.in_workspace(workspace_id, user.id)

    async def visible(self, user: User, room_id: int) -> RoomView:
        """The room, if the user belongs to its workspace, and whether they are in it."""
        access = await self._access(user, room_id)
        return RoomView(access.room, access.is_member)

    async def require_room_member(self, user: User, room_id: int) -> Room:
        room = self._cached(room_id, user.id)
        if room is not None:
            return room
        access = await self._access(user, room_id)
        if not access.is_member:
            raise forbidden("join the room first")
        self._remember(user, access.room)
        return access.room

    async def join(self, user: User, room_id: int, passcode: str | None) -> Room:
        """Make the user a room member; a passcode room asks for its code unless already one."""
        room = self._cached(room_id, user.id)
        if room is not None:
            return room
        access = await self._access(user, room_id)
        if not access.is_member:
            if access.passcode_hash is not None:
                await self._check_passcode(user, room_id, access.passcode_hash, passcode)
            await self._store.rooms.add_member(room_id, user.id)
        self._remember(user, access.room)
        return access.room

    def _cached(self, room_id: int, user_id: int) -> Room | None:
        entry = self._members.get((room_id, user_id))
        if entry is None:
            return None
        room, read_at = entry
        if self._clock() - read_at > MEMBER_CACHE_TTL_S:
            del self._members[(room_id, user_id)]
            return None
        return room

    def _remember(self, user: User, room: Room) -> None:
        if len(self._members) >= MEMBER_CACHE_SIZE:
            self._members.clear()
        self._members[(room.id, user.id)] = (room, self._clock())

    def _forget(self, user_id: int, room_ids: list[int]) -> None:
        for room_id in room_ids:
            self._members.pop((room_id, user_id), None)

    async def _access(self, user: User, room_id: int) -> RoomAccess:
        """The room and the user's standing, in one read; not_found or forbidden otherwise."""
        access = await self._store.rooms.access(room_id, user.id)
        if access is None:
            raise not_found("room")
        if access.workspace_role is None:
            raise forbidden("you are not a member of this workspace")
        return access

    async def join_by_token(self, user: User, join_token: str, passcode: str | None) -> Room:
        """Join by link: a member of the room's workspace becomes a room member, and a
        passcode room still needs its passcode (the link is no way around it)."""
        if "\x00" in join_token:  # never in a token we issue; PostgreSQL text cannot hold it
            raise not_found("join link")
        found = await self._store.rooms.by_token(join_token)
        # compare_digest on the found token keeps the lookup's answer from leaking by timing.
        if found is None or not hmac.compare_digest(found.join_token, join_token):
            raise not_found("join link")
        access = await self._access(user, found.id)
        if not access.is_member:
            if access.passcode_hash is not None:
                await self._check_passcode(user, access.room.id, access.passcode_hash, passcode)
            await self._store.rooms.add_member(access.room.id, user.id)
        self._remember(user, access.room)
        return access.room

    async def members(self, user: User, room_id: int) -> list[RoomUser]:
        """Who is in the room: for its workspace, but a passcode room's only for its members."""
        access = await self._access(user, room_id)
        if access.passcode_hash is not None and not access.is_member:
            raise forbidden("join the room (with its passcode) to see its members")
        return await self._store.rooms.members(room_id)

    async def _check_passcode(
        self, user: User, room_id: int, passcode_hash: str, passcode: str | None
    ) -> None:
        if not passcode:
            raise ChatError(Code.WRONG_PASSCODE, "this room needs its passcode")
        since = datetime.now(UTC) - self._window
        # Count the attempt before checking it, so parallel guesses cannot all slip
        # under the limit; a right passcode takes its attempt back.
        attempt = await self._store.rooms.record_passcode_failure(room_id, user.id, since)
        attempts = await self._store.rooms.passcode_failures_since(room_id, user.id, since)
        if attempts > self._max_failures:
            await self._store.rooms.forget_passcode_failure(attempt)
            window = int(self._window.total_seconds())
            raise ChatError(Code.RATE_LIMITED, f"too many wrong passcodes; wait up to {window} s")
        try:
            await asyncio.to_thread(self._hasher.verify, passcode_hash, passcode)
        except (VerifyMismatchError, InvalidHashError):
            left = self._max_failures - attempts
            raise ChatError(Code.WRONG_PASSCODE, f"wrong passcode ({left} tries left)") from None
        await self._store.rooms.forget_passcode_failure(attempt)
