"""The REST calls the client needs: log in, renew, WebSocket tickets, and the room event
log to page a long catch-up. On httpx, the one optional dependency (the ``client`` extra)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

try:
    import httpx
except ImportError as missing:  # the extra is not installed: say what to install
    raise ImportError(
        "roomchat.client needs httpx, a dependency of roomchat: install roomchat from its "
        "checkout or wheel (docs/integration.md)"
    ) from missing

from roomchat.client.errors import AuthenticationError, RequestError
from roomchat.client.fields import JSONObject, boolean, integer, obj, objects, text, timestamp
from roomchat.client.models import Attachment, Message, Room, User


@dataclass(frozen=True, slots=True)
class Session:
    """A login: the user and their access token (a JWT, ``expires_in`` seconds to live)."""

    user: User
    token: str
    expires_in: int | None


@dataclass(frozen=True, slots=True)
class EventPage:
    events: tuple[JSONObject, ...]  # {action, data}, oldest first, each as broadcast
    has_more: bool


@dataclass(frozen=True, slots=True)
class FollowedThread:
    """A thread one follows: its root (with its ``thread``) and one's read state."""

    root: Message
    last_read_seq: int
    unread_replies: int


@dataclass(frozen=True, slots=True)
class WorkspaceMember:
    user: User
    role: str  # owner, admin, member, bot
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class PendingInvitation:
    """An unanswered invitation, as the workspace's owner and admins see it."""

    id: int
    workspace_id: int
    user: User  # the invitee
    invited_by: User
    created_at: datetime
    expires_at: datetime


class Rest:
    """The server's REST API (``/api/v1``), with the errors of its one catalogue raised
    as ``RequestError`` (401 as ``AuthenticationError``)."""

    def __init__(self, base_url: str, http: httpx.AsyncClient | None = None) -> None:
        self.http = http or httpx.AsyncClient(base_url=base_url, timeout=30)
        self._owns_http = http is None

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        """The body's ``data`` of a success; raises the body's ``error`` otherwise."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers.update(kwargs.pop("headers", None) or {})
        response = await self.http.request(method, path, headers=headers, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success and isinstance(body, Mapping) and "data" in body:
            return body["data"]
        error = _error_of(response.status_code, body)
        if response.status_code == 401:
            raise AuthenticationError(str(error))
        raise error

    async def register(
        self, username: str, password: str, display_name: str | None = None
    ) -> Session:
        body = {"username": username, "password": password, "display_name": display_name}
        return _session(await self.call("POST", "/api/v1/auth/register", json=body))

    async def login(self, username: str, password: str) -> Session:
        body = {"username": username, "password": password}
        return _session(await self.call("POST", "/api/v1/auth/login", json=body))

    async def refresh(self, token: str) -> Session:
        """A new token of the same login session (until the session's maximum age)."""
        return _session(await self.call("POST", "/api/v1/auth/refresh", token))

    async def me(self, token: str) -> User:
        return User.from_data(await self.call("GET", "/api/v1/users/me", token))

    async def ws_ticket(self, token: str) -> str | None:
        """A single-use WebSocket ticket, or None from a server that does not offer them."""
        response = await self.http.post(
            "/api/v1/auth/ws-ticket", headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code in (404, 405):
            return None
        if response.status_code == 401:
            raise AuthenticationError("the token was refused")
        response.raise_for_status()
        return str(response.json()["data"]["ticket"])

    async def room_events(
        self, token: str, room_id: int, after_seq: int, limit: int = 100
    ) -> EventPage:
        """A page of the room's event log after ``after_seq`` (room members only)."""
        data = await self.call(
            "GET",
            f"/api/v1/room-chats/{room_id}/events",
            token,
            params={"after_seq": after_seq, "limit": limit},
        )
        return EventPage(tuple(objects(data, "events")), boolean(data, "has_more"))

    async def thread(
        self, token: str, room_id: int, root_id: int, after_seq: int = 0, limit: int = 50
    ) -> tuple[list[Message], bool]:
        """A page of a thread after ``after_seq``: its root first, then its replies."""
        data = await self.call(
            "GET",
            f"/api/v1/room-chats/{room_id}/threads/{root_id}",
            token,
            params={"after_seq": after_seq, "limit": limit},
        )
        return [Message.from_data(m) for m in objects(data, "messages")], boolean(data, "has_more")

    async def followed_threads(
        self, token: str, workspace_id: int, limit: int = 50
    ) -> list[FollowedThread]:
        data = await self.call(
            "GET", f"/api/v1/workspaces/{workspace_id}/threads", token, params={"limit": limit}
        )
        return [
            FollowedThread(
                Message.from_data(t["root"]), int(t["last_read_seq"]), int(t["unread_replies"])
            )
            for t in objects(data, "threads")
        ]

    async def open_direct_chat(
        self, token: str, workspace_id: int, user_ids: Sequence[int]
    ) -> Room:
        """The direct conversation of the caller and ``user_ids`` (1 to 8 other members
        of the workspace), made if there was none."""
        body = {"workspace_id": workspace_id, "user_ids": list(user_ids)}
        return Room.from_data(await self.call("POST", "/api/v1/direct-chats/", token, json=body))

    async def rooms(self, token: str, workspace_id: int, kind: str | None = None) -> list[Room]:
        """The rooms the caller may see in the workspace (its rooms and the caller's
        direct conversations; ``kind``: "room" or "direct" only); the first page."""
        params = {"kind": kind} if kind is not None else {}
        data = await self.call(
            "GET", f"/api/v1/room-chats/workspace/{workspace_id}", token, params=params
        )
        return [Room.from_data(row) for row in data]

    # -- workspace administration and profiles ------------------------------------------

    async def members(
        self, token: str, workspace_id: int, after: int = 0, limit: int = 500
    ) -> list[WorkspaceMember]:
        """A page of the workspace's members by user id, after user ``after``."""
        data = await self.call(
            "GET",
            f"/api/v1/workspaces/{workspace_id}/members",
            token,
            params={"after": after, "limit": limit},
        )
        return [
            WorkspaceMember(
                User.from_data(obj(m, "user")), text(m, "role"), timestamp(m, "joined_at")
            )
            for m in data
        ]

    async def invite(self, token: str, workspace_id: int, username: str) -> None:
        """Invite a user (the owner or an admin): the same answer whoever they are."""
        body = {"username": username}
        await self.call("POST", f"/api/v1/workspaces/{workspace_id}/members", token, json=body)

    async def remove_member(self, token: str, workspace_id: int, user_id: int) -> None:
        """Remove a member (the owner; an admin: members only); your own id: leave."""
        await self.call("DELETE", f"/api/v1/workspaces/{workspace_id}/members/{user_id}", token)

    async def set_role(self, token: str, workspace_id: int, user_id: int, role: str) -> str:
        """Make a member an ``admin`` or an admin a ``member`` (the owner only)."""
        data = await self.call(
            "PATCH",
            f"/api/v1/workspaces/{workspace_id}/members/{user_id}",
            token,
            json={"role": role},
        )
        return text(data, "role")

    async def rename_workspace(self, token: str, workspace_id: int, name: str) -> None:
        await self.call("PATCH", f"/api/v1/workspaces/{workspace_id}", token, json={"name": name})

    async def pending_invitations(self, token: str, workspace_id: int) -> list[PendingInvitation]:
        data = await self.call("GET", f"/api/v1/workspaces/{workspace_id}/invitations", token)
        return [
            PendingInvitation(
                integer(i, "id"),
                integer(i, "workspace_id"),
                User.from_data(obj(i, "user")),
                User.from_data(obj(i, "invited_by")),
                timestamp(i, "created_at"),
                timestamp(i, "expires_at"),
            )
            for i in data
        ]

    async def cancel_invitation(self, token: str, invitation_id: int) -> None:
        await self.call("DELETE", f"/api/v1/invitations/{invitation_id}", token)

    async def accept_invitation(self, token: str, invitation_id: int) -> int:
        """Join the workspace; its id."""
        data = await self.call("POST", f"/api/v1/invitations/{invitation_id}/accept", token)
        return integer(data, "id")

    async def set_display_name(self, token: str, display_name: str) -> User:
        body = {"display_name": display_name}
        return User.from_data(await self.call("PATCH", "/api/v1/users/me", token, json=body))

    async def set_avatar(self, token: str, picture: bytes) -> User:
        """Upload a picture (PNG, JPEG, GIF or WebP, at most 2 MiB); it is cropped to a
        square on the server. The user with their new ``avatar_url``."""
        data = await self.call(
            "PUT",
            "/api/v1/users/me/avatar",
            token,
            content=picture,
            headers={"Content-Type": "application/octet-stream"},
        )
        return User.from_data(data)

    # -- files ------------------------------------------------------------------------

    async def upload(
        self,
        token: str,
        room_id: int,
        content: bytes | BinaryIO,
        filename: str,
        content_type: str = "application/octet-stream",
    ) -> Attachment:
        """Upload one file to the room (multipart, streamed from a file object); the
        server sniffs its real type."""
        files = {"file": (filename, content, content_type)}
        data = await self.call(
            "POST", f"/api/v1/room-chats/{room_id}/attachments", token, files=files
        )
        return Attachment.from_data(data)

    async def attachment(self, token: str, attachment_id: int) -> Attachment:
        return Attachment.from_data(
            await self.call("GET", f"/api/v1/attachments/{attachment_id}", token)
        )

    async def room_attachments(
        self, token: str, room_id: int, before_id: int | None = None, limit: int = 50
    ) -> tuple[list[Attachment], bool]:
        params: dict[str, int] = {"limit": limit}
        if before_id is not None:
            params["before_id"] = before_id
        data = await self.call(
            "GET", f"/api/v1/room-chats/{room_id}/attachments", token, params=params
        )
        return [Attachment.from_data(a) for a in data["attachments"]], bool(data["has_more"])


def _error_of(status: int, body: Any) -> RequestError:
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        return RequestError.from_error(body["error"])
    return RequestError("internal_error", f"HTTP {status} without an error body")


def _session(data: JSONObject) -> Session:
    expires_in = data.get("expires_in")
    return Session(
        User.from_data(data["user"]),
        str(data["access_token"]),
        expires_in if isinstance(expires_in, int) else None,
    )
