"""Sending messages and reading a room's history."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from roomchat import jsoncodec
from roomchat.domain.attachments import AttachmentService, AttachmentsTaken
from roomchat.domain.events import RoomEvent, message_data
from roomchat.domain.mentions import Mentions
from roomchat.domain.models import Content, MessagePage, Room, User
from roomchat.domain.ports import EventRecorder, Storage
from roomchat.domain.recent import RecentHistory
from roomchat.domain.records import BadThreadRoot, ClientMsgIdTaken, NewMessage, SendResult
from roomchat.domain.rooms import RoomService
from roomchat.domain.threads import refusal
from roomchat.errors import ChatError, Code, not_found
from roomchat.group_commit import GroupCommitWriter
from roomchat.metrics import Metrics


@dataclass(frozen=True, slots=True)
class MessageLimits:
    max_text_chars: int = 4000
    max_content_bytes: int = 16 * 1024
    history: int = 50
    page: int = 100
    catch_up_max_bytes: int = 1024 * 1024  # of a join reply's encoded messages
    # Rows read per query while filling a join reply: bounds what one join holds in
    # memory besides the reply itself (a message encodes to at most ~40 KB).
    read_chunk: int = 100


def check_message(
    limits: MessageLimits, message_text: str, message_content: Content, *, files: bool = False
) -> None:
    """A message's text and content as sending and editing accept them (``files``: the
    message has attachments, and may have an empty text)."""
    if not files and not message_text.strip():
        raise ChatError(Code.VALIDATION_ERROR, "message_text must not be empty")
    if len(message_text) > limits.max_text_chars:
        raise ChatError(
            Code.VALIDATION_ERROR, f"message_text is over {limits.max_text_chars} characters"
        )
    check_content(limits, message_content)
    # PostgreSQL text cannot hold U+0000; refuse it on every backend alike (before it
    # reaches a shared group commit and fails the other sends in it). An object's
    # encoding escapes it, so only strings are concerned.
    if any("\x00" in s for s in (message_text, message_content) if isinstance(s, str)):
        raise ChatError(Code.VALIDATION_ERROR, "text must not contain the NUL character")


def check_content(limits: MessageLimits, content: object) -> None:
    """``message_content``: a string (its UTF-8 bytes) or a JSON object (its compact
    encoding) of at most ``max_content_bytes``, or None. An object must come back from
    its encoding as the same object, since that is what every reader gets: no value
    JSON cannot carry exactly (NaN, integers past 64 bits, lone surrogates)."""
    if content is None:
        return
    if isinstance(content, str):
        try:
            size = len(content.encode())
        except UnicodeEncodeError:
            raise ChatError(Code.VALIDATION_ERROR, "message_content is not valid UTF-8") from None
    elif isinstance(content, dict):
        try:
            encoded = jsoncodec.dumps(content)
        except TypeError:  # orjson's JSONEncodeError: depth, big integers, surrogates
            encoded = None
        if encoded is None or jsoncodec.loads(encoded) != content:
            raise ChatError(
                Code.VALIDATION_ERROR, "message_content holds a value JSON cannot carry exactly"
            )
        size = len(encoded)
    else:
        raise ChatError(
            Code.VALIDATION_ERROR, "message_content must be a string, a JSON object or null"
        )
    if size > limits.max_content_bytes:
        raise ChatError(
            Code.VALIDATION_ERROR, f"message_content is over {limits.max_content_bytes} bytes"
        )


def same_content(a: Content, b: Content) -> bool:
    """Whether two contents are the same as sent: objects by their encoding (Python's
    ``==`` takes ``1`` for ``1.0`` and ``true``, and ignores the keys' order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return jsoncodec.dumps(a) == jsoncodec.dumps(b)
    return type(a) is type(b) and a == b


@dataclass(frozen=True, slots=True)
class History:
    """What a join reply holds: the room, its messages oldest first (each as it is now:
    edits, tombstones and reactions applied) or, catching up, its events (each as it
    was broadcast), and ``seq``, where the reply ends: the broadcasts after the reply
    are those with a greater seq, with no gap and no repeat."""

    room: Room
    encoded: list[bytes]
    seq: int
    # Older messages exist (latest), or newer events than ``seq`` (catching up).
    has_more: bool


class MessageService:
    """Sending (group-committed, each new message a durable room event on the room's
    seq, written to the event log and the outbox in the same transaction) and reading
    history."""

    def __init__(
        self,
        store: Storage,
        rooms: RoomService,
        recorder: EventRecorder,
        limits: MessageLimits,
        *,
        metrics: Metrics,
        mentions: Mentions,
        cache_recent: bool = False,
        commits_in_flight: int = 1,
        attachments: AttachmentService | None = None,
    ) -> None:
        """``cache_recent``: serve joins from each room's newest messages in memory
        (domain/recent.py), which only the room events keep exact: whoever sets it
        passes every event this instance hears to ``heard`` (``fanout.on_event``)."""
        self._metrics = metrics
        self._attachments = attachments
        self._store = store
        self._rooms = rooms
        self._mentions = mentions
        # The seqs, the event log and the outbox: the same recorder as every other
        # room change's.
        self._recorder = recorder
        self.limits = limits
        # On PostgreSQL a batch is one statement (store/append_pg.py): several can be in
        # flight, no two sharing a room, so each room's sends still commit in order.
        in_flight = commits_in_flight if recorder.batches_in_parallel else 1
        self._writer: GroupCommitWriter[NewMessage, SendResult] = GroupCommitWriter(
            self._store_batch,
            key=_room_of,
            in_flight=in_flight,
            unavailable=store.is_unavailable,
        )
        self.recent: RecentHistory | None = None
        join_history = self._metrics.join_history
        self._from_memory = join_history.labels(self._metrics.instance, "memory")
        self._from_database = join_history.labels(self._metrics.instance, "database")
        if cache_recent:
            self.recent = RecentHistory(limits.history, limits.catch_up_max_bytes)

    def heard(self, event: RoomEvent) -> None:
        """Follow a room event this instance heard (keeps the recent history exact)."""
        if self.recent is not None:
            self.recent.heard(event)

    def start(self) -> None:
        self._writer.start()

    async def close(self) -> None:
        await self._writer.close()

    async def _store_batch(self, batch: Sequence[NewMessage]) -> list[SendResult]:
        """The messages, their seqs, their events in the log and their outbox rows, all
        in one transaction (store/recorder.py; on PostgreSQL, one statement)."""
        try:
            results = await self._recorder.record_messages(batch)
        except LookupError:
            # The room was deleted since the sender's membership check; the writer
            # retries a batch that fails one by one, so only this send gets the error.
            raise ChatError(Code.NOT_FOUND, "room not found") from None
        except BadThreadRoot as bad:
            # The root was deleted since the send's check (the writer retries a batch
            # that fails one by one, so only this reply gets the error).
            found = refusal(bad.state)
            raise found if found is not None else not_found("thread root") from None
        except AttachmentsTaken:
            raise ChatError(Code.CONFLICT, "an upload is already in another message") from None
        except ClientMsgIdTaken:
            # A concurrent send with the same client_msg_id (another connection or
            # instance) committed first. Redo one by one so only that send is a replay.
            if len(batch) > 1:
                return [r for item in batch for r in await self._store_batch([item])]
            existing = await self._store.messages.by_client_msg_id(batch[0])
            if existing is None:
                raise
            return [SendResult(existing, message_data(existing), None)]
        self._metrics.batch_size.observe(len(batch))
        self._metrics.messages_stored.inc(sum(1 for r in results if r.event is not None))
        return results

    async def require_member(self, user: User, room_id: int) -> None:
        await self._rooms.require_room_member(user, room_id)

    async def send(
        self,
        user: User,
        room_id: int,
        message_text: str,
        message_content: Content,
        client_msg_id: str | None,
        thread_root_id: int | None = None,
        attachment_ids: Sequence[int] = (),
    ) -> SendResult:
        """Store and broadcast a message; ``message_content`` is kept as sent (``""``
        stays ``""``, an object comes back the same object). ``thread_root_id``: a reply
        in that top-level message's thread (domain/threads.py says what it may name).
        ``attachment_ids``: the sender's uploads to this room to attach (at most 10);
        with them the text may be empty."""
        check_message(self.limits, message_text, message_content, files=bool(attachment_ids))
        if client_msg_id is not None and not 1 <= len(client_msg_id) <= 64:
            raise ChatError(Code.VALIDATION_ERROR, "client_msg_id must be 1-64 characters")
        if client_msg_id is not None and "\x00" in client_msg_id:
            raise ChatError(Code.VALIDATION_ERROR, "text must not contain the NUL character")
        room = await self._rooms.require_room_member(user, room_id)
        files: tuple[int, ...] = ()
        if attachment_ids:
            if self._attachments is None:
                raise ChatError(Code.VALIDATION_ERROR, "this server takes no attachments")
            # Sent again (its reply was lost): its uploads are in the stored message now,
            # so it is answered with that message before they are checked as free.
            if client_msg_id is not None:
                key = NewMessage(room_id, user, message_text, message_content, client_msg_id)
                stored = await self._store.messages.by_client_msg_id(key)
                if stored is not None:
                    sent = SendResult(stored, message_data(stored), None)
                    return self._replay(
                        sent, message_text, message_content, thread_root_id, attachment_ids
                    )
            files = await self._attachments.for_send(user, room_id, attachment_ids)
        mentioned = await self._mentions.resolve(user, room, message_text)
        if thread_root_id is not None:
            # Checked here so a bad root fails alone, not the group commit's batch; the
            # reply's own transaction checks again (store/recorder.py).
            found = refusal(await self._store.threads.root_state(room_id, thread_root_id))
            if found is not None:
                raise found
        result = await self._writer.write(
            NewMessage(
                room_id,
                user,
                message_text,
                message_content,
                client_msg_id,
                thread_root_id,
                mentioned,
                files,
            )
        )
        if result.event is not None and mentioned.members:
            signals = self._mentions.signals(result.message, result.data, mentioned.members)
            return dataclasses.replace(result, signals=signals)
        if result.event is None:
            return self._replay(
                result, message_text, message_content, thread_root_id, attachment_ids
            )
        return result

    def _replay(
        self,
        result: SendResult,
        message_text: str,
        message_content: Content,
        thread_root_id: int | None,
        attachment_ids: Sequence[int],
    ) -> SendResult:
        """A send repeating a stored client_msg_id: the stored message (its files' URLs
        minted), or ``conflict`` if the send asked for a different one."""
        stored = result.message
        if (
            stored.message_text != message_text
            or not same_content(stored.message_content, message_content)
            or stored.thread_root_id != thread_root_id
            or [a.id for a in stored.attachments] != list(dict.fromkeys(attachment_ids))
        ):
            raise ChatError(Code.CONFLICT, "client_msg_id was already used for a different message")
        if self._attachments is None or not stored.attachments:
            return result
        minted = self._attachments.mint_message(stored)
        return dataclasses.replace(result, message=minted, data=message_data(minted))

    async def latest(self, room_id: int, at_least: int | None = None) -> History:
        """The room, its newest messages as they are now (at most ``history`` of them and
        ``catch_up_max_bytes``) and its seq, all read at one point in time.

        ``at_least``: the seq the room's events were delivered up to here; given it, the
        answer may come from memory (domain/recent.py), never ending before it.
        """
        recent = self.recent
        if recent is not None and at_least is not None:
            cut = recent.cut(room_id, at_least)
            if cut is not None:
                self._from_memory.inc()
                return self._fresh(History(cut.room, cut.encoded, cut.seq, cut.has_more))
        self._from_database.inc()
        if recent is None:
            return self._fresh((await self._read_latest(room_id))[0])
        fill = recent.begin_fill(room_id)
        try:
            history, ids = await self._read_latest(room_id)
        except BaseException:
            recent.abandon(fill)
            raise
        recent.end_fill(
            fill,
            history.room,
            history.seq,
            list(zip(ids, history.encoded, strict=True)),
            history.has_more,
        )
        return self._fresh(history)

    def _fresh(self, history: History) -> History:
        """The history with its attachments' URLs minted afresh (a message with none:
        the same bytes)."""
        if self._attachments is None:
            return history
        fresh = self._attachments.fresh
        return dataclasses.replace(history, encoded=[fresh(m) for m in history.encoded])

    async def _read_latest(self, room_id: int) -> tuple[History, list[int]]:
        """``latest`` from the database, with the ids of the messages it holds."""
        left, budget = self.limits.history, self.limits.catch_up_max_bytes
        newest_first: list[bytes] = []
        ids: list[int] = []

        def done(room: Room, seq: int, has_more: bool) -> tuple[History, list[int]]:
            newest_first.reverse()
            ids.reverse()
            return History(room, newest_first, seq, has_more), ids

        async with self._store.snapshot() as snap:
            found = await snap.room(room_id)
            if found is None:
                raise ChatError(Code.NOT_FOUND, "room not found")
            room, seq = found
            page = await snap.latest_messages(room_id, min(left, self.limits.read_chunk))
            while True:
                for message in reversed(page.messages):
                    data = message_data(message)
                    budget -= len(data) + 1  # and its comma
                    if budget < 0:
                        return done(room, seq, True)
                    newest_first.append(data)
                    ids.append(message.id)
                left -= len(page.messages)
                if not page.has_more or left <= 0:
                    return done(room, seq, page.has_more)
                page = await snap.messages_before(
                    room_id, page.messages[0].seq, min(left, self.limits.read_chunk)
                )

    async def page(
        self, user: User, room_id: int, before_seq: int | None, after_seq: int | None, limit: int
    ) -> MessagePage:
        if not 1 <= limit <= self.limits.page:
            raise ChatError(Code.VALIDATION_ERROR, f"limit must be 1-{self.limits.page}")
        if before_seq is not None and after_seq is not None:
            raise ChatError(Code.VALIDATION_ERROR, "give before_seq or after_seq, not both")
        await self.require_member(user, room_id)
        if after_seq is not None:
            page = await self._store.messages.after(room_id, after_seq, limit)
        elif before_seq is not None:
            page = await self._store.messages.before(room_id, before_seq, limit)
        else:
            page = await self._store.messages.latest(room_id, limit)
        return self.minted(page)

    def minted(self, page: MessagePage) -> MessagePage:
        """The page with its attachments' URLs minted."""
        if self._attachments is None:
            return page
        mint = self._attachments.mint_message
        return MessagePage([mint(m) for m in page.messages], page.has_more)


def _room_of(item: NewMessage) -> int:
    return item.room_id
