"""Changing a sent message: edits, deletes and reactions, each a durable room event.

Each change runs in one transaction through the EventRecorder: the room's next seq is
reserved (which also serialises the room's changes), the message is checked and
changed, and its event goes to the room event log and the outbox. The message's
current state (text, tombstone, reactions) is kept in its tables by that same
transaction, so history and the events never disagree. A change that changes nothing
(a reaction given twice, one removed that was not given, an edit to the same text)
succeeds without an event: its transaction is rolled back and gives its seq back.

Every change event carries ``message_id`` and ``message``, the message as it is after
the change (read in the change's transaction, which holds the room's seq, so it is
exact at that seq). An edit or a delete also takes the earlier versions out of the
room event log: every stored event that shows the message (its
``new_room_chat_message`` and its earlier change events) is rewritten, in the same
transaction, to show it as it is now (``_show_as_now``). Rewriting beats storing
events by reference: a replay stays a plain read of pre-encoded events and sending
(the hot path) is untouched, while the cost lands on edits and deletes, which are
rare and touch a handful of rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from roomchat import frames, jsoncodec
from roomchat.domain import events, kinds
from roomchat.domain.mentions import Mentions
from roomchat.domain.messages import MessageLimits, check_message, same_content
from roomchat.domain.models import Content, Message, User
from roomchat.domain.names import has_hidden_characters, renders_as_nothing
from roomchat.domain.outcome import Outcome, outcome
from roomchat.domain.ports import Change, EventRecorder, RoomTransaction
from roomchat.domain.records import ChangeTarget
from roomchat.domain.roles import manages_room
from roomchat.domain.rooms import RoomService
from roomchat.errors import ChatError, Code, forbidden, not_found

MAX_REACTION_CHARS = 32
MAX_DISTINCT_REACTIONS = 20  # per message

# Format characters an emoji needs: the zero-width joiner of sequences (👩‍💻) and
# the tag characters of subdivision flags. Every other hidden character is refused.
_EMOJI_FORMAT = re.compile("[\u200d\U000e0020-\U000e007f]")


def clean_reaction(raw: str) -> str:
    """The reaction as stored and broadcast (NFC), or a validation_error."""
    reaction = unicodedata.normalize("NFC", raw)
    if not 1 <= len(reaction) <= MAX_REACTION_CHARS:
        raise ChatError(
            Code.VALIDATION_ERROR, f"reaction must be 1-{MAX_REACTION_CHARS} characters"
        )
    if any(ch.isspace() for ch in reaction) or has_hidden_characters(
        _EMOJI_FORMAT.sub("", reaction)
    ):
        raise ChatError(
            Code.VALIDATION_ERROR,
            "reaction must be an emoji or a :short_code: without spaces or hidden characters",
        )
    # Joiners, tag characters or a lone combining mark pass the checks above (an emoji
    # needs them) but would show every member an empty reaction.
    if renders_as_nothing(reaction):
        raise ChatError(
            Code.VALIDATION_ERROR, "a reaction must show something: an emoji or a :short_code:"
        )
    return reaction


class _Unchanged(Exception):
    """Raised inside a change that changes nothing: rolls back its seq; ``reply`` is
    what the caller is told."""

    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__("unchanged")
        self.reply = reply


def _now() -> datetime:
    return datetime.now(UTC)


class MessageChanges:
    def __init__(
        self,
        rooms: RoomService,
        recorder: EventRecorder,
        limits: MessageLimits,
        clock: Callable[[], datetime] = _now,
        *,
        mentions: Mentions,
    ) -> None:
        self._rooms = rooms
        self._recorder = recorder
        self._limits = limits
        self._clock = clock
        self._mentions = mentions

    async def edit(
        self,
        user: User,
        room_id: int,
        message_id: int,
        message_text: str,
        message_content: Content,
        *,
        keep_content: bool,
    ) -> Outcome[bytes]:
        """The author's new text (and content, as sent, unless ``keep_content``: not
        given; null clears it). Its mentions are those of the new text: the members it
        mentions for the first time are told (``room_chat_mention``), once."""
        # An empty text is checked below: a message with files may have none.
        check_message(self._limits, message_text, message_content, files=True)
        room = await self._rooms.require_room_member(user, room_id)
        mentioned = await self._mentions.resolve(user, room, message_text)
        first_time: list[int] = []
        edited: list[Message] = []

        async def change(tx: RoomTransaction, seq: int) -> tuple[str, dict[str, Any]]:
            found = await self._target(tx, room_id, message_id, user)
            if found.message.user.id != user.id:
                raise forbidden("only its author may edit a message")
            old = found.message
            if not message_text.strip() and not (await tx.messages.current(message_id)).attachments:
                raise ChatError(Code.VALIDATION_ERROR, "message_text must not be empty")
            new_content = old.message_content if keep_content else message_content
            if old.message_text == message_text and same_content(old.message_content, new_content):
                message = await tx.messages.current(message_id)
                raise _Unchanged(_message_reply(message))
            await tx.messages.edit(message_id, message_text, new_content, self._clock())
            first_time.extend(await tx.mentions.replace(old, mentioned))
            if old.thread_root_id is not None and mentioned.user_ids:
                # Named in a reply: they follow its thread (unless they unfollowed it).
                await tx.threads.follow_unless_unfollowed(
                    room_id, old.thread_root_id, set(mentioned.user_ids) - {user.id}
                )
            message = await tx.messages.current(message_id)
            edited.append(message)
            await _show_as_now(tx, message)
            return kinds.MESSAGE_EDITED, events.message_edited_data(seq, message)

        done = await self._record(user, room_id, change)
        if not (done.events and first_time):
            return done
        message = edited[0]
        told = self._mentions.signals(message, events.message_data(message), first_time)
        return Outcome(done.value, done.events, told)

    async def delete(self, user: User, room_id: int, message_id: int) -> Outcome[bytes]:
        """Leave a tombstone: by its author or whoever manages the room (its creator, the
        workspace owner, the workspace's bots)."""

        async def change(tx: RoomTransaction, seq: int) -> tuple[str, dict[str, Any]]:
            found = await self._target(tx, room_id, message_id, user)
            if found.message.user.id != user.id and not manages_room(
                user.id, found.room_creator, found.actor_role
            ):
                raise forbidden(
                    "only its author, the room's creator or the workspace owner may delete it"
                )
            await tx.messages.tombstone(message_id, self._clock())
            tombstone = await tx.messages.current(message_id)
            await _show_as_now(tx, tombstone)
            return kinds.MESSAGE_DELETED, events.message_deleted_data(seq, tombstone, user.id)

        return await self._record(user, room_id, change)

    async def add_reaction(
        self, user: User, room_id: int, message_id: int, raw_reaction: str
    ) -> Outcome[bytes]:
        reaction = clean_reaction(raw_reaction)

        async def change(tx: RoomTransaction, seq: int) -> tuple[str, dict[str, Any]]:
            await self._target(tx, room_id, message_id, user)
            if await tx.reactions.has(message_id, user.id, reaction):
                message = await tx.messages.current(message_id)
                raise _Unchanged(_reaction_reply(message, user.id, reaction))
            if (
                not await tx.reactions.is_given(message_id, reaction)
                and await tx.reactions.distinct_count(message_id) >= MAX_DISTINCT_REACTIONS
            ):
                raise ChatError(
                    Code.CONFLICT,
                    f"a message has at most {MAX_DISTINCT_REACTIONS} different reactions",
                )
            await tx.reactions.add(message_id, user.id, reaction, self._clock())
            message = await tx.messages.current(message_id)
            return kinds.REACTION_ADDED, events.reaction_data(seq, message, user.id, reaction)

        return await self._record(user, room_id, change)

    async def remove_reaction(
        self, user: User, room_id: int, message_id: int, raw_reaction: str
    ) -> Outcome[bytes]:
        reaction = clean_reaction(raw_reaction)

        async def change(tx: RoomTransaction, seq: int) -> tuple[str, dict[str, Any]]:
            await self._target(tx, room_id, message_id, user)
            removed = await tx.reactions.remove(message_id, user.id, reaction)
            message = await tx.messages.current(message_id)
            if not removed:
                raise _Unchanged(_reaction_reply(message, user.id, reaction))
            return kinds.REACTION_REMOVED, events.reaction_data(seq, message, user.id, reaction)

        return await self._record(user, room_id, change)

    async def _record(self, user: User, room_id: int, change: Change) -> Outcome[bytes]:
        """Check the caller may act in the room, then record ``change``. The value is the
        encoded reply: the event's data with ``changed`` (no event: nothing changed)."""
        await self._rooms.require_room_member(user, room_id)
        try:
            event = await self._recorder.record(room_id, change)
        except _Unchanged as unchanged:
            return Outcome(jsoncodec.dumps({**unchanged.reply, "changed": False}))
        except LookupError:
            raise not_found("room") from None  # deleted since the membership check
        return outcome(frames.with_field(frames.data_of(event), "changed", b"true"), event)

    async def _target(
        self, tx: RoomTransaction, room_id: int, message_id: int, actor: User
    ) -> ChangeTarget:
        """The message, if it is in the room and not deleted: not_found otherwise (a
        message of another room, even one the caller may see, is not found here)."""
        found = await tx.messages.target(message_id, actor.id)
        if found is None or found.message.room_id != room_id or found.message.deleted_at:
            raise not_found("message")
        return found


async def _show_as_now(tx: RoomTransaction, message: Message) -> None:
    """Rewrite the message's stored events so that none shows an earlier version."""
    found = await tx.events.message_events(message.room_id, message.seq, message.id)
    await tx.events.rewrite(
        message.room_id,
        {e.seq: events.shown_as_now(e.action, e.data, message) for e in found},
    )


# A change that changed nothing is replied as its event's data would be, without a seq
# (no event was taken): the message as it is, for the client to compare with its own.


def _message_reply(message: Message) -> dict[str, Any]:
    return {"room_id": message.room_id, "message_id": message.id, "message": message.to_dict()}


def _reaction_reply(message: Message, user_id: int, reaction: str) -> dict[str, Any]:
    return {
        "room_id": message.room_id,
        "message_id": message.id,
        "user_id": user_id,
        "reaction": reaction,
        "message": message.to_dict(),
    }
