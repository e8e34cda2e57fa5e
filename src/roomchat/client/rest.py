"""The REST calls the client needs: log in, renew, WebSocket tickets, and the room event
log to page a long catch-up. On httpx, the one optional dependency (the ``client`` extra)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

try:
    import httpx
except ImportError as missing:  # the extra is not installed: say what to install
    raise ImportError(
        "roomchat.client needs httpx: install it with `pip install 'roomchat[client]'`"
    ) from missing

from roomchat.client.errors import AuthenticationError, RequestError
from roomchat.client.fields import JSONObject, boolean, objects
from roomchat.client.models import User


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
