"""Rooms inside a workspace: creation, listing, joining (passcode, link), members, and
the changes that are room events (joins, leaves, removals, updates, deletion)."""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError

from roomchat.domain import kinds, sidebar
from roomchat.domain.events import RoomEvent
from roomchat.domain.kinds import MEMBER_JOINED, MEMBER_LEFT, ROOM_DELETED, ROOM_UPDATED
from roomchat.domain.models import Room, RoomUser, RoomView, User
from roomchat.domain.outcome import Outcome, outcome
from roomchat.domain.ports import EventRecorder, RoomTransaction, Storage
from roomchat.domain.records import RoomAccess, RoomChanges, RoomLimits, TooManyRooms
from roomchat.domain.roles import manages_room
from roomchat.domain.room_changes import (
    departure,
    member_joined_data,
    member_left_data,
    room_deleted_data,
    room_updated_data,
)
from roomchat.domain.workspaces import WorkspaceService, clean_name
from roomchat.errors import ChatError, Code, forbidden, not_found, rate_limited

MEMBER_CACHE_SIZE = 200_000
# How long a remembered "is a member" holds before the database is asked again. Every
# instance forgets a member when their room_member_left (or the room's
# room_chat_updated / room_chat_deleted) reaches it; the age bounds what a lost event
# could leave behind.
MEMBER_CACHE_TTL_S = 10.0
# ROOMCHAT_ROOMS_PER_WORKSPACE's and ROOMCHAT_ROOMS_PER_CREATOR's defaults: a room list
# of a thousand rooms is a few hundred KiB; one member alone cannot make it that long.
DEFAULT_ROOM_LIMITS = RoomLimits(per_workspace=1000, per_creator=100)


class _AlreadyMember(Exception):
    """Rolls back a join that would make no new member (and so no event)."""


@dataclass(slots=True)
class _CachedRoom:
    room: Room
    members: dict[int, float]  # user id: when their membership was read


class RoomService:
    def __init__(
        self,
        store: Storage,
        workspaces: WorkspaceService,
        passcode_max_failures: int,
        passcode_window: timedelta,
        clock: Callable[[], float] = time.monotonic,
        *,
        hasher: PasswordHasher,
        recorder: EventRecorder,
        public_base_url: str = "",
        limits: RoomLimits = DEFAULT_ROOM_LIMITS,
    ) -> None:
        self._store = store
        self._limits = limits
        self._workspaces = workspaces
        self._max_failures = passcode_max_failures
        self._window = passcode_window
        self._hasher = hasher
        self._clock = clock
        self._recorder = recorder
        self._public_base_url = public_base_url
        # Confirmed room members, by room, with the room and when each was read, so a
        # rejoin or a send needs no database read. Kept current by the room's own
        # events (``apply``) on every instance, and by the entries' age.
        self._cache: dict[int, _CachedRoom] = {}
        self._cached_count = 0

    async def create(self, user: User, workspace_id: int, name: str, passcode: str | None) -> Room:
        await self._workspaces.require_member(user, workspace_id)
        name = clean_name(name, "name")
        passcode_hash = None
        if passcode is not None and passcode != "":
            passcode_hash = await self._hash_passcode(passcode)
        try:
            return await self._store.rooms.create(
                workspace_id, name, user.id, passcode_hash, secrets.token_urlsafe(24), self._limits
            )
        except TooManyRooms as full:
            if full.by_creator:
                raise ChatError(
                    Code.CONFLICT,
                    f"you have made {self._limits.per_creator} rooms in this workspace, the "
                    "most one member may; delete one first",
                ) from None
            raise ChatError(
                Code.CONFLICT,
                f"this workspace has {self._limits.per_workspace} rooms, the most it may; "
                "delete one first",
            ) from None

    def created(self, room: Room) -> Outcome[Room]:
        """A room just made, with the ``workspace_room_created`` its workspace's
        followers hear (domain/sidebar.py); a direct conversation's goes to its people
        only."""
        origin = self._recorder.origin
        if room.is_direct:
            return Outcome(room, signals=sidebar.direct_opened(room, self._public_base_url, origin))
        return Outcome(room, signals=(sidebar.room_created(room, self._public_base_url, origin),))

    async def in_workspace(
        self,
        user: User,
        workspace_id: int,
        after: int = 0,
        limit: int | None = None,
        kind: str | None = None,
    ) -> list[RoomView]:
        """The workspace's rooms the user may see by id (its rooms, and the direct
        conversations they are in; ``kind``: one of the two), after room ``after``, at
        most ``limit`` (None: all)."""
        await self._workspaces.require_member(user, workspace_id)
        return await self._store.rooms.in_workspace(workspace_id, user.id, after, limit, kind)

    async def visible(self, user: User, room_id: int) -> RoomView:
        """The room, if the user belongs to its workspace, and whether they are in it (a
        direct conversation: only for its members)."""
        access = await self._access(user, room_id)
        _require_party(access)
        return RoomView(access.room, access.is_member)

    async def require_room_member(self, user: User, room_id: int) -> Room:
        room = self._cached(room_id, user.id)
        if room is not None:
            return room
        access = await self._access(user, room_id)
        if not access.is_member:
            raise forbidden("join the room first")
        self._remember(user.id, access.room)
        return access.room

    async def join(self, user: User, room_id: int, passcode: str | None) -> Outcome[Room]:
        """Make the user a room member; a passcode room asks for its code unless already one.
        The room, and its ``room_member_joined`` when it made a new member."""
        room = self._cached(room_id, user.id)
        if room is not None:
            return Outcome(room)
        access = await self._access(user, room_id)
        return await self._join(user, access, passcode)

    async def _join(self, user: User, access: RoomAccess, passcode: str | None) -> Outcome[Room]:
        event = None
        _require_party(access)
        if not access.is_member:
            if access.passcode_hash is not None:
                await self._check_passcode(user, access.room.id, access.passcode_hash, passcode)
            event = await self._add(access.room.id, user)
        self._remember(user.id, access.room)
        return outcome(access.room, event)

    async def _add(self, room_id: int, user: User) -> RoomEvent | None:
        """Record ``room_member_joined``; None when they already were a member."""

        async def change(tx: RoomTransaction, seq: int) -> tuple[str, dict[str, Any]]:
            joined_at = await tx.rooms.join(room_id, user.id)
            if joined_at is None:
                raise _AlreadyMember()
            return MEMBER_JOINED, member_joined_data(room_id, seq, user, joined_at)

        try:
            return await self._recorder.record(room_id, change)
        except (_AlreadyMember, IntegrityError):
            return None  # a concurrent join got there first: a member either way

    def _cached(self, room_id: int, user_id: int) -> Room | None:
        entry = self._cache.get(room_id)
        if entry is None:
            return None
        read_at = entry.members.get(user_id)
        if read_at is None:
            return None
        if self._clock() - read_at > MEMBER_CACHE_TTL_S:
            del entry.members[user_id]
            self._cached_count -= 1
            return None
        return entry.room

    def _remember(self, user_id: int, room: Room) -> None:
        if self._cached_count >= MEMBER_CACHE_SIZE:
            self._cache.clear()
            self._cached_count = 0
        entry = self._cache.get(room.id)
        if entry is None:
            entry = self._cache[room.id] = _CachedRoom(room, {})
        if user_id not in entry.members:
            self._cached_count += 1
        entry.members[user_id] = self._clock()

    def _forget_member(self, room_id: int, user_id: int) -> None:
        entry = self._cache.get(room_id)
        if entry is not None and entry.members.pop(user_id, None) is not None:
            self._cached_count -= 1

    def _forget_room(self, room_id: int) -> None:
        entry = self._cache.pop(room_id, None)
        if entry is not None:
            self._cached_count -= len(entry.members)

    def apply(self, event: RoomEvent) -> None:
        """Keep the membership cache current from a room event (every instance hears each)."""
        gone = departure(event)
        if gone is not None and gone.user_id is not None:
            self._forget_member(event.room_id, gone.user_id)
        elif event.action in kinds.CHANGES_ROOM:
            self._forget_room(event.room_id)  # the cached Room is stale, or gone

    async def _access(self, user: User, room_id: int) -> RoomAccess:
        """The room and the user's standing, in one read; not_found or forbidden otherwise."""
        access = await self._store.rooms.access(room_id, user.id)
        if access is None:
            raise not_found("room")
        if access.workspace_role is None:
            raise forbidden("you are not a member of this workspace")
        return access

    async def join_by_token(
        self, user: User, join_token: str, passcode: str | None
    ) -> Outcome[Room]:
        """Join by link: a member of the room's workspace becomes a room member, and a
        passcode room still needs its passcode (the link is no way around it)."""
        if "\x00" in join_token:  # never in a token we issue; PostgreSQL text cannot hold it
            raise not_found("join link")
        found = await self._store.rooms.by_token(join_token)
        # compare_digest on the found token keeps the lookup's answer from leaking by timing.
        if found is None or not hmac.compare_digest(found.join_token, join_token):
            raise not_found("join link")
        access = await self._access(user, found.id)
        return await self._join(user, access, passcode)

    async def _manage(self, user: User, room_id: int) -> RoomAccess:
        """The room, if ``user`` created it or manages its workspace's rooms (the owner,
        the workspace's bots); forbidden otherwise."""
        access = await self._access(user, room_id)
        if access.room.is_direct:
            # Its people are fixed (nobody added or removed), it has no name, passcode
            # or link, and nobody outside it (the workspace owner included) manages it.
            _require_party(access)
            raise forbidden("a direct conversation cannot be changed")
        if not manages_room(user.id, access.room.created_by, access.workspace_role):
            raise forbidden("only the room's creator, the workspace owner or an admin can do that")
        return access

    async def add_member(self, actor: User, room_id: int, user_id: int) -> Outcome[RoomUser]:
        """The creator or the workspace owner makes a workspace member a room member
        (no passcode asked). The member, and the event when they are new."""
        access = await self._manage(actor, room_id)
        user = None
        if await self._store.workspaces.role(access.room.workspace_id, user_id) is not None:
            user = await self._store.users.get(user_id)
        if user is None:
            raise not_found("workspace member")  # the same whether the user exists or not
        event = await self._add(room_id, user)
        member = await self._store.rooms.member(room_id, user_id)
        if member is None:  # removed meanwhile
            raise not_found("room member")
        return outcome(member, event)

    async def remove_member(self, actor: User, room_id: int, user_id: int) -> Outcome[RoomEvent]:
        """Leave (``user_id`` is the actor) or remove someone (the creator or the owner):
        its value is the ``room_member_left`` (its seq is the reply's)."""
        if user_id == actor.id:
            own = await self._access(actor, room_id)
            if own.room.is_direct:
                _require_party(own)
                raise forbidden(
                    "a direct conversation cannot be left; leaving the workspace ends it for you"
                )
        else:
            await self._manage(actor, room_id)

        async def change(tx: RoomTransaction, seq: int) -> tuple[str, dict[str, Any]]:
            if not await tx.rooms.remove_member(room_id, user_id):
                raise not_found("room member")
            return MEMBER_LEFT, member_left_data(room_id, seq, user_id, actor.id)

        event = await self._recorder.record(room_id, change)
        self._forget_member(room_id, user_id)
        return outcome(event, event)

    async def update(
        self, actor: User, room_id: int, name: str | None, passcode: str | None, clear: bool
    ) -> Outcome[Room]:
        """Rename and/or set the passcode (``clear``: remove it); the creator or the owner."""
        await self._manage(actor, room_id)
        if name is None and passcode is None and not clear:
            raise ChatError(Code.VALIDATION_ERROR, "give a name or a passcode to change")
        if name is not None:
            name = clean_name(name, "name")
        passcode_hash = None
        if passcode is not None:
            passcode_hash = await self._hash_passcode(passcode)
        changed = await self._change(
            room_id, RoomChanges(name=name, passcode_hash=passcode_hash, clear_passcode=clear)
        )
        # The workspace's followers hear of it too (the room without its link).
        signal = sidebar.room_updated(
            changed.value, self._public_base_url, actor.id, self._recorder.origin
        )
        return dataclasses.replace(changed, signals=(*changed.signals, signal))

    async def rotate_link(self, actor: User, room_id: int) -> Outcome[Room]:
        """A new join link; the old one stops working."""
        await self._manage(actor, room_id)
        return await self._change(room_id, RoomChanges(join_token=secrets.token_urlsafe(24)))

    async def _change(self, room_id: int, changes: RoomChanges) -> Outcome[Room]:
        changed: list[Room] = []

        async def change(tx: RoomTransaction, seq: int) -> tuple[str, dict[str, Any]]:
            room = await tx.rooms.change(room_id, changes)
            if room is None:
                raise not_found("room")
            changed.append(room)
            return ROOM_UPDATED, room_updated_data(
                room_id, seq, room.to_dict(self._public_base_url)
            )

        event = await self._recorder.record(room_id, change)
        self._forget_room(room_id)
        return outcome(changed[0], event)

    async def delete(self, actor: User, room_id: int) -> Outcome[RoomEvent]:
        """Delete the room (the creator or the owner): not found from now on. Its value
        is the ``room_chat_deleted`` (its seq is the reply's)."""
        access = await self._manage(actor, room_id)

        async def change(tx: RoomTransaction, seq: int) -> tuple[str, dict[str, Any]]:
            if not await tx.rooms.mark_deleted(room_id):
                raise not_found("room")
            return ROOM_DELETED, room_deleted_data(room_id, seq)

        event = await self._recorder.record(room_id, change)
        self._forget_room(room_id)
        gone = sidebar.room_deleted(
            access.room.workspace_id, room_id, actor.id, self._recorder.origin
        )
        return Outcome(event, (event,), (gone,))

    async def _hash_passcode(self, passcode: str) -> str:
        if not 4 <= len(passcode) <= 64:
            raise ChatError(Code.VALIDATION_ERROR, "passcode must be 4-64 characters")
        return await asyncio.to_thread(self._hasher.hash, passcode)

    async def members(self, user: User, room_id: int) -> list[RoomUser]:
        """Who is in the room: for its workspace, but a passcode room's only for its members."""
        access = await self._access(user, room_id)
        _require_party(access)
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
            # The window is the longest wait (the oldest failure in it may leave sooner).
            raise rate_limited(f"too many wrong passcodes; wait up to {window} s", window * 1000)
        try:
            await asyncio.to_thread(self._hasher.verify, passcode_hash, passcode)
        except (VerifyMismatchError, InvalidHashError):
            left = self._max_failures - attempts
            raise ChatError(Code.WRONG_PASSCODE, f"wrong passcode ({left} tries left)") from None
        await self._store.rooms.forget_passcode_failure(attempt)


def _require_party(access: RoomAccess) -> None:
    """A direct conversation is for its members alone: to anyone else it is forbidden,
    and shows nothing (no name, no members, no messages)."""
    if access.room.is_direct and not access.is_member:
        raise forbidden("a direct conversation is only for its members")
