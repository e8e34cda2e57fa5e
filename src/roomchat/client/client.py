"""The reconnecting client: ``async with Client(url, username=..., password=...) as chat``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from roomchat.client.backoff import Backoff
from roomchat.client.connection import BadFrame, Connection, Frame, ws_url_for
from roomchat.client.errors import (
    AuthenticationError,
    ClientClosed,
    ConnectionLost,
    RequestError,
)
from roomchat.client.events import Connected, Disconnected, Event, RoomAccessLost, parse_event
from roomchat.client.fields import integers, objects
from roomchat.client.inbox import Inbox
from roomchat.client.models import Attachment, Content, JoinedRoom, Message, Room, User
from roomchat.client.requests import ReplyHook, Requests
from roomchat.client.rest import (
    EventPage,
    FollowedThread,
    PendingInvitation,
    Rest,
    WorkspaceMember,
)
from roomchat.client.sequencer import RoomSequencer

log = logging.getLogger(__name__)

# Errors after which the outcome of a send is unknown or it was refused only for now:
# the same client_msg_id is sent again (docs/protocol.md, "Safe retries").
_SEND_AGAIN = frozenset({"rate_limited", "internal_error", "unavailable"})
# Network trouble while (re)connecting: try again after a pause.
_AWAY = (OSError, InvalidHandshake, httpx.HTTPError, TimeoutError, RequestError)
# A resume refused with these: the room is no longer ours to follow.
_ACCESS_LOST = frozenset({"forbidden", "not_found"})


class _Keep:
    """``Client.edit``'s content when not given: the message keeps its content."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


class Client:
    """A user's (or a bot's) connection to roomchat that survives disconnections.

    - **Connect**: with ``token``, or ``username`` and ``password`` (it logs in, and logs
      in again when the token expires). Each (re)connection takes a single-use ticket
      when the server offers ``POST /api/v1/auth/ws-ticket`` (the token stays out of
      URLs), the ``Authorization`` header otherwise.
    - **Reconnect** by itself after any drop, with capped exponential backoff and jitter,
      then re-join every followed room with ``after_seq``.
    - **Room events exactly once**: each followed room's durable events (``RoomEvent``)
      come out of ``events()`` once each, in ``seq`` order, across reconnects, whether
      they arrived live, in a catch-up reply or from the room's event log.
    - **Safe sends**: ``send`` gives every message a ``client_msg_id`` and sends it again
      after a drop until it has the reply; the server stores it once.
    - **Bounded memory**: at most ``max_queued_events`` events wait for the application
      and ``max_pending_requests`` requests for their reply; a slow application makes
      the client read missed room events from the log later, never buffer without end.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        ws_url: str | None = None,
        backoff: Callable[[], Backoff] = Backoff,
        max_queued_events: int = 1000,
        max_pending_requests: int = 100,
        request_timeout: float = 10.0,
        send_timeout: float = 60.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if token is None and (username is None or password is None):
            raise ValueError("give a token, or a username and a password")
        self.user: User | None = None  # known once started
        self._token = token or ""
        self._login = (username, password) if username and password else None
        self._token_stale = token is None  # log in before the first connection
        self._rest = Rest(base_url, http)
        self._ws_url = ws_url or ws_url_for(base_url)
        self._backoff = backoff
        self._request_timeout = request_timeout
        self._send_timeout = send_timeout
        self._inbox = Inbox(max_queued_events)
        self._requests = Requests(max_pending_requests, request_timeout)
        self._rooms = RoomSequencer(self._inbox, self._read_page, backoff)
        self._tickets_offered: bool | None = None  # unknown until first asked
        self._live: Connection | None = None  # connected and rooms resumed
        self._ready = asyncio.Event()  # set while live, and once stopped (wakes waiters)
        self._stopped: BaseException | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._connection: Connection | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Log in if needed and connect. Errors of this first connection are raised (a
        wrong address or password should not be retried in silence); from then on the
        client reconnects by itself."""
        try:
            if self._token_stale:
                await self._renew_token()
            self.user = await self._rest.me(self._token)
            self._rooms.me = self.user.id
            first = await self._open()
        except BaseException:
            await self._rest.aclose()
            raise
        self._supervisor = asyncio.create_task(self._supervise(first), name="roomchat-client")
        await self._live_connection()

    async def close(self) -> None:
        """Disconnect and stop; ``events()`` ends after what was already queued."""
        self._stop(ClientClosed("the client is closed"))
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await self._rooms.close()
        if self._connection is not None:
            await self._connection.close()
        await self._rest.aclose()

    def reconnect(self) -> None:
        """Drop the connection now (say, the network changed): the client reconnects by
        itself and catches up, as after any drop."""
        if self._connection is not None:
            self._connection.abort()

    @property
    def connected(self) -> bool:
        return self._live is not None

    @property
    def token(self) -> str:
        """The access token in use (it changes when the client logs in again)."""
        return self._token

    @property
    def rooms(self) -> list[int]:
        """The rooms followed: joined, and re-joined after every reconnection."""
        return self._rooms.followed()

    def position(self, room_id: int) -> int | None:
        """The seq of the room's last event handed over: persist it to resume a later run
        with ``join(room_id, after_seq=...)``. None for a room not followed."""
        return self._rooms.position(room_id)

    @property
    def dropped_signals(self) -> int:
        """Signals (typing, presence, receipts) dropped because the application was behind."""
        return self._inbox.dropped_signals

    # -- receiving ---------------------------------------------------------------------

    async def next_event(self) -> Event:
        """The next event (wrap in ``asyncio.timeout`` to bound the wait). Raises
        ``ClientClosed`` after ``close()``, or why the client stopped (for instance
        ``AuthenticationError`` when the session was revoked)."""
        return await self._inbox.get()

    async def events(self) -> AsyncIterator[Event]:
        """Every event, until the client is closed."""
        while True:
            try:
                event = await self._inbox.get()
            except ClientClosed:
                return
            yield event

    # -- rooms and messages ------------------------------------------------------------

    async def join(
        self, room_id: int, *, passcode: str | None = None, after_seq: int | None = None
    ) -> JoinedRoom:
        """Join and follow a room. A room already followed, or ``after_seq`` given (the
        ``position`` of an earlier run), catches up: the events after it come out of
        ``events()``. Otherwise the reply's latest messages are in the result."""
        after_seq = self._rooms.position(room_id) if after_seq is None else after_seq
        payload: dict[str, Any] = {"room_id": room_id}
        if after_seq is not None:
            payload["after_seq"] = after_seq
        elif passcode is not None:
            payload["passcode"] = passcode
        try:
            data = await self.request(
                "join_room_chat", payload, self._join_hook(room_id, after_seq)
            )
        except RequestError as refused:
            if after_seq is not None and refused.code in _ACCESS_LOST:
                self._rooms.forget(room_id)  # removed while away: stop following it
            raise
        ids = data.get("online_user_ids")
        return JoinedRoom(
            room=Room.from_data(data["room"]),
            seq=self._rooms.position(room_id) or 0,
            messages=tuple(Message.from_data(m) for m in objects(data, "messages"))
            if "messages" in data
            else (),
            has_older=bool(data.get("has_more")) and after_seq is None,
            online_user_ids=None if ids is None else integers(data, "online_user_ids"),
        )

    async def leave(self, room_id: int) -> None:
        """Stop receiving the room on this client (the membership stays)."""
        self._rooms.forget(room_id)
        await self.request("leave_room_chat", {"room_id": room_id})

    async def send(
        self,
        room_id: int,
        text: str,
        *,
        content: Content = None,
        client_msg_id: str | None = None,
        thread_root_id: int | None = None,
        attachment_ids: Sequence[int] = (),
    ) -> Message:
        """Send a message; the stored message. ``content``: a string or a JSON object
        (at most 16 KiB encoded), returned as sent. ``thread_root_id``: a reply in that
        top-level message's thread. ``attachment_ids``: this user's uploads to the room
        (``upload``), at most 10; with them ``text`` may be empty. Sent again (same
        ``client_msg_id``) after a drop or a rate limit until the reply comes, within
        ``send_timeout`` seconds: the server stores it once whatever the number of
        tries."""
        payload: dict[str, Any] = {
            "room_id": room_id,
            "message_text": text,
            "client_msg_id": client_msg_id or uuid.uuid4().hex,
        }
        if thread_root_id is not None:
            payload["thread_root_id"] = thread_root_id
        if attachment_ids:
            payload["attachment_ids"] = list(attachment_ids)
        if content is not None:
            payload["message_content"] = dict(content) if isinstance(content, Mapping) else content
        pause = self._backoff()
        async with asyncio.timeout(self._send_timeout):
            while True:
                try:
                    connection = await self._live_connection()
                    data = await self._requests.call(connection, "send_room_chat_message", payload)
                    return Message.from_data(data)
                except (ConnectionLost, TimeoutError):
                    continue  # outcome unknown: the same id again finds it or stores it
                except RequestError as refused:
                    if refused.code not in _SEND_AGAIN:
                        raise
                    await asyncio.sleep(pause.next_delay())

    async def edit(
        self, room_id: int, message_id: int, text: str, *, content: Content | _Keep = KEEP
    ) -> Message:
        """The new text (and ``content``: a string, an object, or None to clear it; not
        given, it stays); the message as it is now."""
        payload: dict[str, Any] = {
            "room_id": room_id,
            "message_id": message_id,
            "message_text": text,
        }
        if not isinstance(content, _Keep):
            payload["message_content"] = dict(content) if isinstance(content, Mapping) else content
        data = await self.request("edit_room_chat_message", payload)
        return Message.from_data(data["message"])

    async def delete(self, room_id: int, message_id: int) -> None:
        await self.request(
            "delete_room_chat_message", {"room_id": room_id, "message_id": message_id}
        )

    async def react(self, room_id: int, message_id: int, reaction: str, add: bool = True) -> bool:
        """Add (or, ``add=False``, remove) a reaction; whether anything changed."""
        action = "add_room_chat_reaction" if add else "remove_room_chat_reaction"
        payload = {"room_id": room_id, "message_id": message_id, "reaction": reaction}
        return bool((await self.request(action, payload))["changed"])

    async def typing(self, room_id: int, is_typing: bool = True) -> None:
        """Tell the room. No reply comes for it (an error one only), so none is awaited."""
        async with asyncio.timeout(self._request_timeout):
            connection = await self._live_connection()
        payload = {"room_id": room_id, "is_typing": is_typing}
        with contextlib.suppress(ConnectionClosed):  # a signal: lost with the connection
            await connection.send("typing_indicator", payload, uuid.uuid4().hex)

    async def mark_read(self, room_id: int, seq: int) -> int:
        """Read up to ``seq``; the room's unread count after it."""
        data = await self.request("mark_room_read", {"room_id": room_id, "seq": seq})
        return int(data["unread_count"])

    # -- threads -------------------------------------------------------------------------

    async def follow_thread(self, room_id: int, root_id: int, follow: bool = True) -> int:
        """Follow (or, ``follow=False``, stop following) a thread; its unread replies."""
        action = "follow_thread" if follow else "unfollow_thread"
        data = await self.request(action, {"room_id": room_id, "thread_root_id": root_id})
        return int(data["unread_replies"])

    async def mark_thread_read(self, room_id: int, root_id: int, seq: int) -> int:
        """Read a thread up to ``seq``; its unread replies after it."""
        payload = {"room_id": room_id, "thread_root_id": root_id, "seq": seq}
        return int((await self.request("mark_thread_read", payload))["unread_replies"])

    async def thread(
        self, room_id: int, root_id: int, after_seq: int = 0, limit: int = 50
    ) -> tuple[list[Message], bool]:
        """A page of a thread (its root first, then its replies) and whether more follow."""
        return await self._rest.thread(self._token, room_id, root_id, after_seq, limit)

    async def followed_threads(self, workspace_id: int, limit: int = 50) -> list[FollowedThread]:
        """The threads this user follows in the workspace, newest activity first."""
        return await self._rest.followed_threads(self._token, workspace_id, limit)

    # -- direct conversations (REST, with this client's token) -------------------------

    async def open_direct_chat(self, workspace_id: int, user_ids: Sequence[int]) -> Room:
        """The direct conversation of this user and ``user_ids`` (1 to 8 other members
        of the workspace), made if there was none; ``join`` it like any room."""
        return await self._rest.open_direct_chat(self._token, workspace_id, user_ids)

    async def upload(
        self,
        room_id: int,
        source: str | os.PathLike[str] | bytes,
        *,
        filename: str | None = None,
    ) -> Attachment:
        """Upload a file (a path, streamed from disk, or bytes) to the room; attach it
        with ``send(..., attachment_ids=[attachment.id])``. ``filename``: the name shown
        (a path's own name by default)."""
        if isinstance(source, bytes):
            return await self._rest.upload(self._token, room_id, source, filename or "file")
        path = Path(source)
        file = await asyncio.to_thread(path.open, "rb")
        try:
            return await self._rest.upload(self._token, room_id, file, filename or path.name)
        finally:
            file.close()

    async def attachment(self, attachment_id: int) -> Attachment:
        """An attachment with fresh signed URLs (theirs expire after an hour)."""
        return await self._rest.attachment(self._token, attachment_id)

    async def room_attachments(
        self, room_id: int, before_id: int | None = None, limit: int = 50
    ) -> tuple[list[Attachment], bool]:
        """The room's files, newest first, and whether older ones exist."""
        return await self._rest.room_attachments(self._token, room_id, before_id, limit)

    async def room_list(self, workspace_id: int, kind: str | None = None) -> list[Room]:
        """The workspace's rooms and this user's direct conversations (``kind``: "room"
        or "direct" only)."""
        return await self._rest.rooms(self._token, workspace_id, kind)

    async def subscribe_workspace(self, workspace_id: int, follow: bool = True) -> None:
        """Follow (or stop following) a workspace's live sidebar: ``RoomActivity`` and the
        ``WorkspaceSignal``s. Not renewed after a reconnect: subscribe again on
        ``Connected`` and read the room list and members again."""
        action = "subscribe_workspace" if follow else "unsubscribe_workspace"
        await self.request(action, {"workspace_id": workspace_id})

    @property
    def rest(self) -> Rest:
        """The REST side, for the calls below and any other (pass it ``token``)."""
        return self._rest

    async def members(
        self, workspace_id: int, after: int = 0, limit: int = 500
    ) -> list[WorkspaceMember]:
        return await self._rest.members(self._token, workspace_id, after, limit)

    async def remove_member(self, workspace_id: int, user_id: int) -> None:
        await self._rest.remove_member(self._token, workspace_id, user_id)

    async def set_role(self, workspace_id: int, user_id: int, role: str) -> str:
        return await self._rest.set_role(self._token, workspace_id, user_id, role)

    async def pending_invitations(self, workspace_id: int) -> list[PendingInvitation]:
        return await self._rest.pending_invitations(self._token, workspace_id)

    async def cancel_invitation(self, invitation_id: int) -> None:
        await self._rest.cancel_invitation(self._token, invitation_id)

    async def set_display_name(self, display_name: str) -> User:
        return await self._rest.set_display_name(self._token, display_name)

    async def set_avatar(self, picture: bytes) -> User:
        return await self._rest.set_avatar(self._token, picture)

    async def request(
        self, action: str, payload: Mapping[str, Any], on_reply: ReplyHook | None = None
    ) -> Any:
        """Any action of docs/protocol.md; the reply's ``data``. Waits for the connection
        (within ``request_timeout``), and raises ``RequestError`` for an error reply,
        ``ConnectionLost`` when the connection went away before the reply (the outcome is
        then unknown), ``TimeoutError``."""
        async with asyncio.timeout(self._request_timeout):
            connection = await self._live_connection()
        return await self._requests.call(connection, action, payload, on_reply)

    # -- the connection's life ----------------------------------------------------------

    async def _live_connection(self) -> Connection:
        while True:
            await self._ready.wait()
            if self._stopped is not None:
                raise self._stopped
            if self._live is not None:
                return self._live

    def _stop(self, reason: BaseException) -> None:
        if self._stopped is not None:
            return
        self._stopped = reason
        self._live = None
        self._ready.set()
        self._inbox.end(reason)
        self._requests.fail_all("the client stopped")

    async def _supervise(self, connection: Connection) -> None:
        pause = self._backoff()
        reconnected = False
        try:
            while True:
                code, reason = await self._serve(connection, reconnected, pause)
                self._inbox.offer_signal(Disconnected(code, reason))
                if code == 4401:  # the token expired or was revoked
                    if reason.startswith("token_revoked"):
                        raise AuthenticationError("the session was revoked (logged out)")
                    self._token_stale = True
                connection = await self._reconnect(pause)
                reconnected = True
        except asyncio.CancelledError:
            raise
        except AuthenticationError as refused:
            self._stop(refused)
        except Exception as bug:  # ours: say so rather than hang every waiter
            log.exception("roomchat client stopped")
            self._stop(bug)

    async def _serve(
        self, connection: Connection, reconnected: bool, pause: Backoff
    ) -> tuple[int | None, str]:
        """Read the connection until it closes; its close code and reason."""
        self._connection = connection
        reader = asyncio.create_task(self._read(connection), name="roomchat-reader")
        try:
            # The reader may have ended between the last join reply and here: never offer
            # a dead connection to callers (their retries would spin on it).
            if await self._resume_rooms(connection) and not reader.done():
                self._live = connection
                self._ready.set()
                pause.reset()
                self._inbox.offer_signal(Connected(reconnected))
            return await reader
        finally:
            self._live = None
            if self._stopped is None:
                self._ready.clear()
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader

    async def _read(self, connection: Connection) -> tuple[int | None, str]:
        try:
            while True:
                self._dispatch(await connection.receive())
        except ConnectionClosed as closed:
            if closed.rcvd is None:
                return None, "the connection dropped"
            return closed.rcvd.code, closed.rcvd.reason
        except BadFrame as bad:
            log.warning("roomchat: %s; reconnecting", bad)
            connection.abort()
            return None, str(bad)
        finally:
            # At once, here: the requests waiting on this connection (a resume's joins
            # among them) learn now that no reply will come, not at their timeout.
            self._live = None
            if self._stopped is None:
                self._ready.clear()
            self._requests.fail_all("the connection closed")

    def _dispatch(self, frame: Frame) -> None:
        """One frame from the server. Never waits: the reader must keep reading."""
        if "request_id" in frame:
            self._requests.resolve(frame)
        elif self._rooms.on_broadcast(frame):
            pass  # a room event: the sequencer hands it over in order
        elif frame.get("status") == "error":
            log.debug("roomchat: an error reply to no request of ours: %s", frame)
        else:
            self._inbox.offer_signal(parse_event(frame))

    async def _resume_rooms(self, connection: Connection) -> bool:
        """Re-join every followed room with ``after_seq``; False if the connection went
        away meanwhile."""
        for room_id in self._rooms.followed():
            after_seq = self._rooms.position(room_id)
            if after_seq is None:
                continue  # forgotten meanwhile
            pause = self._backoff()
            payload = {"room_id": room_id, "after_seq": after_seq}
            while True:
                try:
                    hook = self._join_hook(room_id, after_seq)
                    await self._requests.call(connection, "join_room_chat", payload, hook)
                    break
                except RequestError as refused:
                    if refused.code == "rate_limited":  # many rooms: joins are paced
                        await asyncio.sleep(pause.next_delay())
                        continue
                    self._rooms.forget(room_id)
                    self._inbox.offer_signal(RoomAccessLost(room_id, refused.code, refused.message))
                    break
                except ConnectionLost:
                    return False
                except TimeoutError:
                    connection.abort()  # the server stopped answering: a new connection
                    return False
        return True

    def _join_hook(self, room_id: int, after_seq: int | None) -> ReplyHook:
        """Applies a join reply in the reader, before the room's next broadcast."""

        def apply(frame: Frame) -> None:
            data = frame.get("data")
            if frame.get("status") != "success" or not isinstance(data, dict):
                return
            if after_seq is None:
                self._rooms.follow(room_id, int(data["seq"]))
            else:
                self._rooms.on_catch_up(room_id, after_seq, data)

        return apply

    async def _reconnect(self, pause: Backoff) -> Connection:
        while True:
            await asyncio.sleep(pause.next_delay())
            try:
                return await self._open()
            except AuthenticationError:
                if self._login is None or self._token_stale:
                    raise  # nothing to log in with, or logging in itself was refused
                self._token_stale = True  # log in again, then connect
            except _AWAY as away:
                log.debug("roomchat: reconnecting: %r", away)

    async def _open(self) -> Connection:
        """One connection attempt, with a fresh ticket when the server offers them."""
        if self._token_stale:
            await self._renew_token()
        ticket = None
        if self._tickets_offered is not False:
            ticket = await self._rest.ws_ticket(self._token)
            self._tickets_offered = ticket is not None
        try:
            return await Connection.open(self._ws_url, token=self._token, ticket=ticket)
        except InvalidStatus as refused:
            if refused.response.status_code in (401, 403):
                await self._rest.me(self._token)  # raises AuthenticationError if it is the token
            raise

    async def _renew_token(self) -> None:
        if self._login is not None:
            session = await self._rest.login(*self._login)
        else:  # a token given as is: renewable while it is still valid
            session = await self._rest.refresh(self._token)
        self._token = session.token
        self._token_stale = False

    async def _read_page(self, room_id: int, after_seq: int) -> EventPage:
        return await self._rest.room_events(self._token, room_id, after_seq)
