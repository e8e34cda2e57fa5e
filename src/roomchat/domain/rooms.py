"""Rooms inside a workspace: creation, listing, joining (passcode, link) and members."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from roomchat.domain.models import Room, RoomUser, User
from roomchat.domain.workspaces import WorkspaceService, clean_name
from roomchat.errors import ChatError, Code, forbidden, not_found
from roomchat.store import Store
from roomchat.store.rooms import RoomAccess

MEMBER_CACHE_SIZE = 200_000


class RoomService:
    def __init__(
        self,
        store: Store,
        workspaces: WorkspaceService,
        passcode_max_failures: int,
        passcode_window: timedelta,
    ) -> None:
        self._store = store
        self._workspaces = workspaces
        self._max_failures = passcode_max_failures
        self._window = passcode_window
        self._hasher = PasswordHasher()
        # Confirmed room members, with their room. Nothing is ever taken back here
        # (rooms are not renamed, members not removed), so a yes can be remembered
        # and a rejoin or a send needs no database read.
        self._members: dict[tuple[int, int], Room] = {}

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

    async def in_workspace(self, user: User, workspace_id: int) -> list[Room]:
        await self._workspaces.require_member(user, workspace_id)
        return await self._store.rooms.in_workspace(workspace_id)

    async def visible(self, user: User, room_id: int) -> Room:
        """The room, if the user belongs to its workspace."""
        return (await self._access(user, room_id)).room

    async def require_room_member(self, user: User, room_id: int) -> Room:
        room = self._members.get((room_id, user.id))
        if room is not None:
            return room
        access = await self._access(user, room_id)
        if not access.is_member:
            raise forbidden("join the room first")
        self._remember(user, access.room)
        return access.room

    async def join(self, user: User, room_id: int, passcode: str | None) -> Room:
        """Make the user a room member; a passcode room asks for its code unless already one."""
        room = self._members.get((room_id, user.id))
        if room is not None:
            return room
        access = await self._access(user, room_id)
        if not access.is_member:
            if access.passcode_hash is not None:
                await self._check_passcode(user, room_id, access.passcode_hash, passcode)
            await self._store.rooms.add_member(room_id, user.id)
        self._remember(user, access.room)
        return access.room

    def _remember(self, user: User, room: Room) -> None:
        if len(self._members) >= MEMBER_CACHE_SIZE:
            self._members.clear()
        self._members[(room.id, user.id)] = room

    async def _access(self, user: User, room_id: int) -> RoomAccess:
        """The room and the user's standing, in one read; not_found or forbidden otherwise."""
        access = await self._store.rooms.access(room_id, user.id)
        if access is None:
            raise not_found("room")
        if access.workspace_role is None:
            raise forbidden("you are not a member of this workspace")
        return access

    async def join_by_token(self, user: User, join_token: str) -> Room:
        if "\x00" in join_token:  # never in a token we issue; PostgreSQL text cannot hold it
            raise not_found("join link")
        record = await self._store.rooms.by_token(join_token)
        # compare_digest on the found token keeps the lookup's answer from leaking by timing.
        if record is None or not hmac.compare_digest(record.room.join_token, join_token):
            raise not_found("join link")
        await self._workspaces.require_member(user, record.room.workspace_id)
        await self._store.rooms.add_member(record.room.id, user.id)
        self._remember(user, record.room)
        return record.room

    async def members(self, user: User, room_id: int) -> list[RoomUser]:
        await self.visible(user, room_id)
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
