"""Sending messages and reading a room's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from roomchat.domain.events import EventKind, RoomEvent
from roomchat.domain.models import MessagePage, User
from roomchat.domain.rooms import RoomService
from roomchat.domain.writer import GroupCommitWriter
from roomchat.errors import ChatError, Code
from roomchat.store import Store
from roomchat.store.messages import Appended, Encoder, NewMessage


@dataclass(frozen=True, slots=True)
class MessageLimits:
    max_text_chars: int = 4000
    max_content_bytes: int = 16 * 1024
    history: int = 50
    catch_up: int = 500
    page: int = 100
    catch_up_max_bytes: int = 1024 * 1024  # of a join reply's encoded messages


# Rows read per query while filling a join reply: bounds what one join holds in memory
# besides the reply itself (a message encodes to at most ~40 KB).
HISTORY_CHUNK = 100


@dataclass(frozen=True, slots=True)
class History:
    """A join reply's messages, oldest first, each encoded as its broadcast carries it."""

    encoded: list[bytes]
    last_seq: int | None  # of the newest message in ``encoded``
    has_more: bool  # older messages exist (latest), or newer ones (after a seq)


@dataclass(frozen=True, slots=True)
class SendResult:
    data: bytes  # the stored message, encoded
    event: RoomEvent | None  # None for a replay of an earlier client_msg_id


class MessageService:
    def __init__(
        self,
        store: Store,
        rooms: RoomService,
        encode: Encoder,
        origin: str,
        use_outbox: bool,
        limits: MessageLimits,
    ) -> None:
        self._store = store
        self._rooms = rooms
        self._encode = encode
        self._origin = origin
        self._outbox_origin = origin if use_outbox else None
        self.limits = limits
        self._writer = GroupCommitWriter(self._append)

    def start(self) -> None:
        self._writer.start()

    async def close(self) -> None:
        await self._writer.close()

    async def _append(self, batch: Sequence[NewMessage]) -> list[Appended]:
        return await self._store.messages.append(batch, self._encode, self._outbox_origin)

    async def require_member(self, user: User, room_id: int) -> None:
        await self._rooms.require_room_member(user, room_id)

    async def send(
        self,
        user: User,
        room_id: int,
        message_text: str,
        message_content: str | None,
        client_msg_id: str | None,
    ) -> SendResult:
        if not message_text.strip():
            raise ChatError(Code.VALIDATION_ERROR, "message_text must not be empty")
        if len(message_text) > self.limits.max_text_chars:
            raise ChatError(
                Code.VALIDATION_ERROR,
                f"message_text is over {self.limits.max_text_chars} characters",
            )
        if message_content is not None and (
            len(message_content.encode()) > self.limits.max_content_bytes
        ):
            raise ChatError(
                Code.VALIDATION_ERROR,
                f"message_content is over {self.limits.max_content_bytes} bytes",
            )
        if client_msg_id is not None and not 1 <= len(client_msg_id) <= 64:
            raise ChatError(Code.VALIDATION_ERROR, "client_msg_id must be 1-64 characters")
        # PostgreSQL text cannot hold U+0000; refuse it on every backend alike, before it
        # reaches a shared group commit and fails the other sends in it.
        if any("\x00" in s for s in (message_text, message_content, client_msg_id) if s):
            raise ChatError(Code.VALIDATION_ERROR, "text must not contain the NUL character")
        await self.require_member(user, room_id)
        appended = await self._writer.write(
            NewMessage(room_id, user, message_text, message_content or None, client_msg_id)
        )
        message = appended.message
        if not appended.created:
            if (message.message_text, message.message_content) != (
                message_text,
                message_content or None,
            ):
                raise ChatError(
                    Code.CONFLICT, "client_msg_id was already used for a different message"
                )
            return SendResult(self._encode(message), None)
        event = RoomEvent(
            kind=EventKind.MESSAGE,
            room_id=room_id,
            seq=message.seq,
            origin=self._origin,
            sender_id=user.id,
            data=appended.data,
            outbox_id=appended.outbox_id,
        )
        return SendResult(appended.data, event)

    async def latest(self, room_id: int) -> History:
        """The newest messages, at most ``history`` of them and ``catch_up_max_bytes``."""
        repo, left, budget = (
            self._store.messages,
            self.limits.history,
            self.limits.catch_up_max_bytes,
        )
        newest_first: list[bytes] = []
        last_seq: int | None = None
        page = await repo.latest(room_id, min(left, HISTORY_CHUNK))
        while True:
            for message in reversed(page.messages):
                data = self._encode(message)
                budget -= len(data) + 1  # and its comma
                if budget < 0:
                    newest_first.reverse()
                    return History(newest_first, last_seq, has_more=True)
                newest_first.append(data)
                last_seq = message.seq if last_seq is None else last_seq
            left -= len(page.messages)
            if not page.has_more or left <= 0:
                newest_first.reverse()
                return History(newest_first, last_seq, page.has_more)
            page = await repo.before(room_id, page.messages[0].seq, min(left, HISTORY_CHUNK))

    async def after(self, room_id: int, after_seq: int) -> History:
        """Catch-up: the messages after ``after_seq``, at most ``catch_up`` and
        ``catch_up_max_bytes``; ``has_more`` says the rest is to be paged by REST."""
        repo, left, budget = (
            self._store.messages,
            self.limits.catch_up,
            self.limits.catch_up_max_bytes,
        )
        encoded: list[bytes] = []
        last_seq: int | None = None
        cursor = after_seq
        while True:
            page = await repo.after(room_id, cursor, min(left, HISTORY_CHUNK))
            for message in page.messages:
                data = self._encode(message)
                budget -= len(data) + 1
                if budget < 0:
                    return History(encoded, last_seq, has_more=True)
                encoded.append(data)
                last_seq = message.seq
            left -= len(page.messages)
            if not page.has_more or left <= 0 or last_seq is None:
                return History(encoded, last_seq, page.has_more)
            cursor = last_seq

    async def page(
        self, user: User, room_id: int, before_seq: int | None, after_seq: int | None, limit: int
    ) -> MessagePage:
        if not 1 <= limit <= self.limits.page:
            raise ChatError(Code.VALIDATION_ERROR, f"limit must be 1-{self.limits.page}")
        if before_seq is not None and after_seq is not None:
            raise ChatError(Code.VALIDATION_ERROR, "give before_seq or after_seq, not both")
        await self.require_member(user, room_id)
        if after_seq is not None:
            return await self._store.messages.after(room_id, after_seq, limit)
        if before_seq is not None:
            return await self._store.messages.before(room_id, before_seq, limit)
        return await self._store.messages.latest(room_id, limit)

    async def events_between(self, room_id: int, first: int, last: int) -> list[RoomEvent]:
        """Rebuild the broadcasts of stored messages (to fill a gap in live delivery)."""
        found = await self._store.messages.seq_range(room_id, first, last)
        return [
            RoomEvent(EventKind.MESSAGE, m.room_id, m.seq, self._origin, m.user.id, self._encode(m))
            for m in found
        ]
