"""The one writer of a room's seq, its event log and its outbox rows.

Every durable room change comes through here (domain/ports.py: ``EventRecorder``): an
edit, a delete, a reaction, a membership or room change runs in its own transaction
(``record``), a workspace departure's events in the caller's (``record_in``), and new
messages in batches (``record_messages``). Each way the room's next seq is reserved,
the change is written, and its event goes to the log and the outbox in the same
transaction, so a change and its event commit together or not at all, and every
instance replays it in seq order. The domain only says what the change is and what
its event's data is; which sends make a batch is the group commit's (roomchat/
group_commit.py), apart from both.

A batch of messages takes one of two ways to the same rows: on PostgreSQL one
statement (store/append_pg.py), elsewhere a round trip per step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from roomchat import jsoncodec
from roomchat.domain.events import (
    RoomEvent,
    message_data,
    new_message_event,
    thread_updated_data,
)
from roomchat.domain.kinds import NEW_MESSAGE, THREAD_UPDATED
from roomchat.domain.models import Message
from roomchat.domain.records import BadThreadRoot, NewMessage, RootState, Send, SendResult
from roomchat.frames import MessageTemplate
from roomchat.store import mentions as mention_rows
from roomchat.store import messages as message_rows
from roomchat.store import read_state, seqs, threads
from roomchat.store.append_pg import BatchAppender
from roomchat.store.transaction import Transaction

if TYPE_CHECKING:
    from roomchat.domain.ports import Change, Describe, RoomTransaction
    from roomchat.store import Store


class Outbox(Protocol):
    """Where the events go to reach the other instances (roomchat.outbox.Outbox)."""

    async def add(self, tx: Transaction, events: Sequence[RoomEvent]) -> None: ...

    def committed(self, rows: Sequence[tuple[int, RoomEvent]]) -> None:
        """Rows (outbox id, event) the batch statement wrote and committed: publish them."""


class Recorder:
    """``outbox``: None on one instance (no one else to tell)."""

    __slots__ = ("_batches", "_fresh", "_mint", "_origin", "_outbox", "_store")

    def __init__(self, store: Store, outbox: Outbox | None, origin: str) -> None:
        self._store = store
        self._outbox = outbox
        self._origin = origin
        # Attachments' signed URLs (domain/attachments.py): minted into a new message
        # with files, and afresh into any change event that shows one.
        self._mint: Callable[[Message], Message] = _same
        self._fresh: Callable[[bytes], bytes] = _same
        postgres = store.engine.dialect.name == "postgresql"
        self._batches = BatchAppender(store.engine) if postgres else None

    def mint_urls_with(
        self, mint: Callable[[Message], Message], fresh: Callable[[bytes], bytes]
    ) -> None:
        self._mint = mint
        self._fresh = fresh

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def batches_in_parallel(self) -> bool:
        """Whether batches over different rooms may commit concurrently (one statement
        each, so each room's sends still commit in order)."""
        return self._batches is not None

    async def record(self, room_id: int, change: Change) -> RoomEvent:
        async with self._store.transaction() as tx:
            (seq,) = await seqs.reserve_seqs(tx.conn, [room_id])
            action, data = await change(tx, seq)
            encoded = self._fresh(jsoncodec.dumps(data))
            event = RoomEvent.build(room_id, seq, action, encoded, self._origin)
            await self._log(tx, [event])
        return event

    async def record_in(
        self, tx: RoomTransaction, changes: Sequence[tuple[int, Describe]]
    ) -> list[RoomEvent]:
        own = _own(tx)
        if not changes:
            return []
        taken = await seqs.reserve_seqs(own.conn, [room_id for room_id, _ in changes])
        events = []
        for (room_id, describe), seq in zip(changes, taken, strict=True):
            action, data = describe(seq)
            encoded = self._fresh(jsoncodec.dumps(data))
            events.append(RoomEvent.build(room_id, seq, action, encoded, self._origin))
        await self._log(own, events)
        return events

    async def record_messages(self, batch: Sequence[NewMessage]) -> list[SendResult]:
        """One result per send, in order; a send repeating a stored client_msg_id (or an
        earlier one of the batch) is a replay: the stored message, no event. A room of
        the batch deleted meanwhile raises LookupError and stores nothing; a concurrent
        send with the same client_msg_id raises ClientMsgIdTaken."""
        # The one statement stores top-level messages; a batch with a reply (it moves
        # its root and takes a second seq) takes the steps, on every backend.
        if self._batches is not None and all(item.plain for item in batch):
            return await self._messages_at_once(self._batches, batch)
        return await self._messages_in_steps(batch)

    async def _log(self, tx: Transaction, events: list[RoomEvent]) -> None:
        await self._store.events.append(tx, events)
        if self._outbox is not None:
            await self._outbox.add(tx, events)

    async def _messages_in_steps(self, batch: Sequence[NewMessage]) -> list[SendResult]:
        async with self._store.transaction() as tx:
            results: list[SendResult] = []
            stored = await self._store.messages.append(tx, batch)
            for item, appended in zip(batch, stored, strict=True):
                message = appended.message
                if message.attachments:
                    message = self._mint(message)
                data = message_data(message)
                event = None
                extra: tuple[RoomEvent, ...] = ()
                if appended.created:
                    event = new_message_event(message, self._origin, data)
                    await mention_rows.add(tx.conn, message, item.mentioned.members)
                    if appended.thread_seq is not None:
                        thread = await self._reply_stored(
                            tx, message, appended.thread_seq, item.mentioned.user_ids
                        )
                        extra = (thread,)
                results.append(SendResult(message, data, event, extra))
            await self._log(tx, [e for r in results for e in r.events])
            # Sending marks the room read up to the message sent; a reply, its thread
            # (store/threads.py, add_reply).
            await read_state.advance_senders(
                tx.conn,
                [
                    (r.message.room_id, r.message.user.id, r.message.seq)
                    for r in results
                    if r.message.thread_root_id is None
                ],
            )
        return results

    async def _reply_stored(
        self, tx: Transaction, reply: Message, seq: int, named: Sequence[int]
    ) -> RoomEvent:
        """A new reply's root: checked again (the transaction holds the room's seq, so
        nothing deletes it meanwhile), its thread moved on (the members the reply names
        follow it); its room_chat_thread_updated at ``seq``."""
        root_id = reply.thread_root_id
        assert root_id is not None
        state = await threads.root_state(tx.conn, reply.room_id, root_id)
        if state is not RootState.ROOT:
            raise BadThreadRoot(state)
        await threads.add_reply(
            tx.conn, root_id, reply.room_id, reply.user.id, reply.seq, reply.created_at, named
        )
        root = await message_rows.current(tx.conn, root_id)
        data = self._fresh(jsoncodec.dumps(thread_updated_data(seq, root)))
        return RoomEvent.build(reply.room_id, seq, THREAD_UPDATED, data, self._origin)

    async def _messages_at_once(
        self, batches: BatchAppender, batch: Sequence[NewMessage]
    ) -> list[SendResult]:
        """The same writes as ``_messages_in_steps`` in one round trip."""
        now = datetime.now(UTC)
        drafts: list[Message] = []
        items: list[NewMessage] = []  # the send of each draft
        first: dict[tuple[int, int, str], int] = {}
        place: list[int] = []  # each send's draft (a repeated client_msg_id: the first's)
        for item in batch:
            key = item.idempotency_key
            if key is not None and key in first:
                place.append(first[key])
                continue
            if key is not None:
                first[key] = len(drafts)
            place.append(len(drafts))
            items.append(item)
            drafts.append(
                Message(
                    id=0,
                    room_id=item.room_id,
                    seq=0,
                    user=item.user,
                    message_text=item.message_text,
                    message_content=item.message_content,
                    client_msg_id=item.client_msg_id,
                    created_at=now,
                )
            )
        templates = [MessageTemplate.of(message_data(d), d.room_id) for d in drafts]
        sends = [
            Send(d.room_id, d.user.id, d.message_text or "", d.message_content, d.client_msg_id, t)
            for d, t in zip(drafts, templates, strict=True)
        ]
        origin = self._origin if self._outbox is not None else None
        written = await batches.write(sends, now, origin)
        made: list[SendResult] = []
        queued: list[tuple[int, RoomEvent]] = []
        # Sends repeating an earlier send's client_msg_id: their messages, in one read.
        replayed = await self._store.messages.by_client_msg_ids(
            [item for item, w in zip(items, written, strict=True) if w.seq is None]
        )
        for item, draft, template, w in zip(items, drafts, templates, written, strict=True):
            if w.seq is None:  # an earlier send's client_msg_id: a replay
                key = item.idempotency_key
                existing = replayed.get(key) if key is not None else None
                if existing is None:
                    raise LookupError("the replayed message is gone")
                made.append(SendResult(existing, message_data(existing), None))
                continue
            message = dataclasses.replace(draft, id=w.message_id, seq=w.seq)
            data = template.data(w.message_id, w.seq)
            event = RoomEvent.build(message.room_id, message.seq, NEW_MESSAGE, data, self._origin)
            if w.outbox_id is not None:
                queued.append((w.outbox_id, event))
            made.append(SendResult(message, data, event))
        if queued and self._outbox is not None:
            self._outbox.committed(queued)
        results: list[SendResult] = []
        seen: set[int] = set()
        for at in place:  # a later send with the same client_msg_id replays the first
            results.append(dataclasses.replace(made[at], event=None) if at in seen else made[at])
            seen.add(at)
        return results


def _same(value: Any) -> Any:
    return value


def _own(tx: RoomTransaction) -> Transaction:
    """The domain hands back the transaction port it was given, which in this process is
    always the store's own Transaction."""
    if not isinstance(tx, Transaction):
        raise TypeError(f"not a store transaction: {type(tx).__name__}")
    return tx
