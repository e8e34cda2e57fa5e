"""One handler per WebSocket action, and the table saying how the gateway runs each:
its payload model and the per-connection rate limit it takes from. A handler gets
the parsed payload, calls the domain and replies; a command's committed events go out
after its reply through ``_answer`` and ``_publish``, the WebSocket adapter of an
outcome (domain/outcome.py), and nowhere else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic

from roomchat import jsoncodec
from roomchat.domain.events import typing_signal
from roomchat.domain.message_changes import MessageChanges
from roomchat.domain.messages import MessageService
from roomchat.domain.models import Room
from roomchat.domain.outcome import Outcome, Recorded
from roomchat.domain.read_state import ReadState
from roomchat.domain.records import ReadPosition, ThreadPosition
from roomchat.domain.replay import Replay
from roomchat.domain.rooms import RoomService
from roomchat.domain.threads import ThreadService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.errors import ChatError, Code
from roomchat.realtime import protocol
from roomchat.realtime.connection import Connection
from roomchat.realtime.fanout import Fanout
from roomchat.realtime.hub import Hub
from roomchat.realtime.presence import Presence
from roomchat.realtime.protocol import Envelope, P
from roomchat.realtime.receipts import Receipts

# Workspaces one connection may follow at once (subscribe_workspace): bounds what a
# client can make the server hold.
MAX_FOLLOWED = 100
# Rooms whose encoding join replies reuse (a room's every field is its key, so a
# renamed room is a new entry); emptied when full.
ENCODED_ROOMS = 10_000


class Limit(StrEnum):
    """The per-connection rate limits (token buckets, sized by GatewayLimits)."""

    SEND = "send"
    TYPING = "typing"
    JOIN = "join"  # joins and workspace subscriptions: each reads the database
    CHANGE = "change"  # edits, deletes and reactions
    READ = "read"  # mark_room_read and mark_room_unread


@dataclass(frozen=True, slots=True)
class Action(Generic[P]):
    """How the gateway runs one action: parse ``payload`` (a malformed frame takes
    nothing from a limit), take one from the connection's ``limit`` (``rate_limited``
    saying ``refusal`` when it is empty), then ``run`` it with the parsed payload.
    ``run`` returns its reply, or None when it sent it itself (or sends none)."""

    payload: type[P]
    run: Callable[[Connection, Envelope, P], Awaitable[bytes | None]]
    limit: Limit | None = None
    refusal: str = ""


@dataclass
class Handlers:
    rooms: RoomService
    messages: MessageService
    hub: Hub
    fanout: Fanout
    instance_id: str
    public_base_url: str
    changes: MessageChanges
    replay: Replay
    reads: ReadState
    receipts: Receipts
    workspaces: WorkspaceService
    presence: Presence
    threads: ThreadService
    _encoded_rooms: dict[Room, bytes] = field(default_factory=dict, init=False, repr=False)

    def table(self) -> dict[str, Action[Any]]:
        change = "changing messages too fast; slow down"
        read = "marking rooms read too fast; slow down"
        return {
            "join_room_chat": Action(
                protocol.JoinRoom, self.join_room_chat, Limit.JOIN, "joining too fast; slow down"
            ),
            "leave_room_chat": Action(protocol.LeaveRoom, self.leave_room_chat),
            "send_room_chat_message": Action(
                protocol.SendMessage,
                self.send_room_chat_message,
                Limit.SEND,
                "sending too fast; slow down",
            ),
            "typing_indicator": Action(
                protocol.Typing,
                self.typing_indicator,
                Limit.TYPING,
                "typing indicators too fast; slow down",
            ),
            "edit_room_chat_message": Action(
                protocol.EditMessage, self.edit_room_chat_message, Limit.CHANGE, change
            ),
            "delete_room_chat_message": Action(
                protocol.DeleteMessage, self.delete_room_chat_message, Limit.CHANGE, change
            ),
            "add_room_chat_reaction": Action(
                protocol.ReactionChange, self.add_room_chat_reaction, Limit.CHANGE, change
            ),
            "remove_room_chat_reaction": Action(
                protocol.ReactionChange, self.remove_room_chat_reaction, Limit.CHANGE, change
            ),
            "subscribe_workspace": Action(
                protocol.WorkspaceRef,
                self.subscribe_workspace,
                Limit.JOIN,
                "subscribing too fast; slow down",
            ),
            "unsubscribe_workspace": Action(protocol.WorkspaceRef, self.unsubscribe_workspace),
            "mark_room_read": Action(protocol.MarkRoom, self.mark_room_read, Limit.READ, read),
            "mark_room_unread": Action(protocol.MarkRoom, self.mark_room_unread, Limit.READ, read),
            "follow_thread": Action(protocol.ThreadRef, self.follow_thread, Limit.READ, read),
            "unfollow_thread": Action(protocol.ThreadRef, self.unfollow_thread, Limit.READ, read),
            "mark_thread_read": Action(
                protocol.MarkThread, self.mark_thread_read, Limit.READ, read
            ),
            "ping": Action(protocol.Ping, self.ping),
        }

    async def join_room_chat(
        self, conn: Connection, envelope: Envelope, p: protocol.JoinRoom
    ) -> bytes | None:
        if p.after_seq is None:
            joined = await self.rooms.join(conn.user, p.room_id, p.passcode)
        else:
            # A catch-up resumes a membership and never creates one: a member removed
            # while offline is told so, not let back in by their client's reconnect.
            joined = Outcome(await self.rooms.require_room_member(conn.user, p.room_id))
        room_id = joined.value.id
        if joined.events:  # a new member: the room may now be too large
            await self.presence.recount(room_id)
        await self.hub.begin_join(conn, room_id)
        try:
            if p.after_seq is None:
                history = await self.messages.latest(room_id, self._known_seq(room_id, joined))
            else:
                history = await self.replay.catch_up(room_id, p.after_seq)
            online = await self.presence.online(room_id)
        except BaseException:
            self.hub.leave(conn, room_id)
            raise
        room = self._encoded(history.room)
        shape = protocol.join_data if p.after_seq is None else protocol.catch_up_data
        data = shape(room, history.encoded, history.has_more, history.seq, online)
        reply = protocol.success(envelope.action, data, envelope.request_id)
        # The reply goes through the hub (ordered with the room's broadcasts), then the
        # join's room_member_joined, if it made a new member.
        self.hub.complete_join(conn, room_id, reply, history.seq)
        self._publish(joined)
        return None

    def _encoded(self, room: Room) -> bytes:
        encoded = self._encoded_rooms.get(room)
        if encoded is None:
            if len(self._encoded_rooms) >= ENCODED_ROOMS:
                self._encoded_rooms.clear()
            encoded = jsoncodec.dumps(room.to_dict(self.public_base_url))
            self._encoded_rooms[room] = encoded
        return encoded

    def _known_seq(self, room_id: int, joined: Outcome[Room]) -> int | None:
        """Where a join reply's history may not end before: what the hub delivered here,
        and this join's own room_member_joined (stored, published after the reply)."""
        delivered = self.hub.delivered(room_id)
        if delivered is None or not joined.events:
            return delivered
        return max(delivered, *(event.seq for event in joined.events))

    async def leave_room_chat(
        self, conn: Connection, envelope: Envelope, p: protocol.LeaveRoom
    ) -> bytes | None:
        if p.room_id not in conn.rooms:
            raise ChatError(Code.BAD_REQUEST, "this connection has not joined that room")
        self.hub.leave(conn, p.room_id)
        data = jsoncodec.dumps({"room_id": p.room_id})
        return protocol.success(envelope.action, data, envelope.request_id)

    async def send_room_chat_message(
        self, conn: Connection, envelope: Envelope, p: protocol.SendMessage
    ) -> bytes | None:
        result = await self.messages.send(
            conn.user,
            p.room_id,
            p.message_text,
            p.message_content,
            p.client_msg_id,
            p.thread_root_id,
            p.attachment_ids,
        )
        self._answer(conn, envelope, result.data, result)
        return None

    async def edit_room_chat_message(
        self, conn: Connection, envelope: Envelope, p: protocol.EditMessage
    ) -> bytes | None:
        result = await self.changes.edit(
            conn.user,
            p.room_id,
            p.message_id,
            p.message_text,
            p.message_content,
            keep_content="message_content" not in p.model_fields_set,
        )
        self._answer(conn, envelope, result.value, result)
        return None

    async def delete_room_chat_message(
        self, conn: Connection, envelope: Envelope, p: protocol.DeleteMessage
    ) -> bytes | None:
        result = await self.changes.delete(conn.user, p.room_id, p.message_id)
        self._answer(conn, envelope, result.value, result)
        return None

    async def add_room_chat_reaction(
        self, conn: Connection, envelope: Envelope, p: protocol.ReactionChange
    ) -> bytes | None:
        result = await self.changes.add_reaction(conn.user, p.room_id, p.message_id, p.reaction)
        self._answer(conn, envelope, result.value, result)
        return None

    async def remove_room_chat_reaction(
        self, conn: Connection, envelope: Envelope, p: protocol.ReactionChange
    ) -> bytes | None:
        result = await self.changes.remove_reaction(conn.user, p.room_id, p.message_id, p.reaction)
        self._answer(conn, envelope, result.value, result)
        return None

    def _answer(self, conn: Connection, envelope: Envelope, data: bytes, outcome: Recorded) -> None:
        """The WebSocket adapter of a command's outcome: the caller's reply (``data``)
        first, then the outcome's events, which the caller gets too, after its reply."""
        conn.send(protocol.success(envelope.action, data, envelope.request_id))
        self._publish(outcome)

    def _publish(self, outcome: Recorded) -> None:
        """The outcome's committed events to this instance's clients (the outbox relay
        carries them to the others), then its signals (to this instance's and, through
        the bus, the others'). Called once the reply is out: the one place a handler
        publishes."""
        if outcome.events:
            self.fanout.publish(outcome.events)
        for signal in outcome.signals:
            self.fanout.signal(signal)

    async def subscribe_workspace(
        self, conn: Connection, envelope: Envelope, p: protocol.WorkspaceRef
    ) -> bytes | None:
        """Follow the activity of the workspace's rooms one is a member of (room_activity)."""
        await self.workspaces.require_member(conn.user, p.workspace_id)
        if p.workspace_id not in conn.workspaces and len(conn.workspaces) >= MAX_FOLLOWED:
            raise ChatError(
                Code.VALIDATION_ERROR, f"at most {MAX_FOLLOWED} workspaces per connection"
            )
        self.hub.follow(conn, p.workspace_id)
        data = jsoncodec.dumps({"workspace_id": p.workspace_id})
        return protocol.success(envelope.action, data, envelope.request_id)

    async def unsubscribe_workspace(
        self, conn: Connection, envelope: Envelope, p: protocol.WorkspaceRef
    ) -> bytes | None:
        if p.workspace_id not in conn.workspaces:
            raise ChatError(Code.BAD_REQUEST, "this connection does not follow that workspace")
        self.hub.unfollow(conn, p.workspace_id)
        data = jsoncodec.dumps({"workspace_id": p.workspace_id})
        return protocol.success(envelope.action, data, envelope.request_id)

    async def mark_room_read(
        self, conn: Connection, envelope: Envelope, p: protocol.MarkRoom
    ) -> bytes | None:
        position = await self.reads.mark_read(conn.user, p.room_id, p.seq)
        self._marked(conn, envelope, position)
        return None

    async def mark_room_unread(
        self, conn: Connection, envelope: Envelope, p: protocol.MarkRoom
    ) -> bytes | None:
        position = await self.reads.mark_unread(conn.user, p.room_id, p.seq)
        self._marked(conn, envelope, position)
        return None

    def _marked(self, conn: Connection, envelope: Envelope, position: ReadPosition) -> None:
        """The caller's reply first, then the user's devices and the room hear of it."""
        data = jsoncodec.dumps(position.to_dict())
        conn.send(protocol.success(envelope.action, data, envelope.request_id))
        self.receipts.moved(conn.user.id, position)

    async def follow_thread(
        self, conn: Connection, envelope: Envelope, p: protocol.ThreadRef
    ) -> bytes | None:
        position = await self.threads.follow(conn.user, p.room_id, p.thread_root_id, True)
        return await self._thread_moved(conn, envelope, position)

    async def unfollow_thread(
        self, conn: Connection, envelope: Envelope, p: protocol.ThreadRef
    ) -> bytes | None:
        position = await self.threads.follow(conn.user, p.room_id, p.thread_root_id, False)
        return await self._thread_moved(conn, envelope, position)

    async def mark_thread_read(
        self, conn: Connection, envelope: Envelope, p: protocol.MarkThread
    ) -> bytes | None:
        position = await self.threads.mark_read(conn.user, p.room_id, p.thread_root_id, p.seq)
        return await self._thread_moved(conn, envelope, position)

    async def _thread_moved(
        self, conn: Connection, envelope: Envelope, position: ThreadPosition
    ) -> bytes | None:
        """The caller's reply first; then the user's devices hear the room's new counts
        (``thread_unread`` and ``mention_count`` move with a thread's read state), as
        they do after ``mark_room_read``."""
        conn.send(protocol.success(envelope.action, _thread_data(position), envelope.request_id))
        room = await self.reads.position(conn.user, position.room_id)
        if room is not None:
            self.receipts.counts_changed(conn.user.id, room)
        return None

    async def typing_indicator(
        self, conn: Connection, envelope: Envelope, p: protocol.Typing
    ) -> bytes | None:
        await self.messages.require_member(conn.user, p.room_id)
        self.fanout.signal(typing_signal(p.room_id, conn.user.id, p.is_typing, self.instance_id))
        if envelope.request_id is None:
            # No reply: one without a request_id would look like another user's broadcast.
            return None
        data = jsoncodec.dumps({"room_id": p.room_id, "is_typing": p.is_typing})
        return protocol.success(envelope.action, data, envelope.request_id)

    async def ping(self, conn: Connection, envelope: Envelope, p: protocol.Ping) -> bytes | None:
        return protocol.success("pong", b"{}", envelope.request_id)


def _thread_data(position: ThreadPosition) -> bytes:
    """The reply of the thread actions: one's place in the thread after it."""
    return jsoncodec.dumps(
        {
            "room_id": position.room_id,
            "thread_root_id": position.thread_root_id,
            "following": position.following,
            "last_read_seq": position.last_read_seq,
            "unread_replies": position.unread_replies,
        }
    )
