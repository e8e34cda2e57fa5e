"""One WebSocket to the server, no reconnecting: JSON frames in and out.

The layer ``Client`` reconnects around, and the one the test suite's own helpers use
(tests/support/client.py), so every integration test goes through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect

from roomchat import jsoncodec

Frame = dict[str, Any]
# Called with each frame as received (the raw text or bytes, then decoded): for logging,
# tracing and tests that compare the bytes the server sent.
FrameTap = Callable[[str | bytes, Frame], None]

# The server's largest frame is a join reply or an event page (CATCH_UP_MAX_BYTES, 1 MiB by
# default) plus its envelope: 4 MiB leaves room for a server configured larger.
MAX_FRAME_BYTES = 4 * 1024 * 1024


class BadFrame(ValueError):
    """The server sent something that is not a JSON object."""


def ws_url_for(base_url: str) -> str:
    """``http(s)://host[:port][/prefix]`` -> ``ws(s)://host[:port][/prefix]/ws``."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws", "", ""))


def decode(raw: str | bytes) -> Frame:
    try:
        frame = jsoncodec.loads(raw)
    except jsoncodec.JSONDecodeError as bad:
        raise BadFrame("a frame that is not JSON") from bad
    if not isinstance(frame, dict):
        raise BadFrame("a frame that is not a JSON object")
    return frame


class Connection:
    """An open WebSocket, speaking the protocol's JSON envelopes.

    ``receive`` and the raw ``websocket`` let ``websockets.ConnectionClosed`` through: at
    this layer the close code is information (1009, 1013, 4401...), not a failure to hide.
    """

    def __init__(self, websocket: ClientConnection, tap: FrameTap | None = None) -> None:
        self.websocket = websocket  # the raw path: frames no client should send
        self.tap = tap

    @classmethod
    async def open(
        cls,
        ws_url: str,
        *,
        token: str | None = None,
        ticket: str | None = None,
        token_in_query: bool = False,
        max_frame_bytes: int = MAX_FRAME_BYTES,
        open_timeout: float = 10.0,
        tap: FrameTap | None = None,
    ) -> Connection:
        """Open ``ws_url`` with one credential (docs/protocol.md, "Connecting").

        ``ticket`` (single use, from ``POST /api/v1/auth/ws-ticket``) keeps the token out of
        URLs; a ``token`` goes in the ``Authorization`` header, or, with
        ``token_in_query``, in the URL (compatibility: a proxy in between may log it). A
        refused handshake raises ``websockets.InvalidStatus`` (HTTP 403).
        """
        query: dict[str, str] = {}
        headers: dict[str, str] = {}
        if ticket is not None:
            query["ticket"] = ticket
        elif token is not None and token_in_query:
            query["token"] = token
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = f"{ws_url}?{urlencode(query)}" if query else ws_url
        websocket = await connect(
            url,
            additional_headers=headers,
            max_size=max_frame_bytes,
            compression=None,  # the server does not negotiate it: skip the offer
            open_timeout=open_timeout,
        )
        return cls(websocket, tap)

    async def send(
        self, action: str, payload: Mapping[str, Any] | None = None, request_id: str | None = None
    ) -> None:
        frame: Frame = {"action": action, "payload": dict(payload or {})}
        if request_id is not None:
            frame["request_id"] = request_id
        await self.send_frame(frame)

    async def send_frame(self, frame: Mapping[str, Any]) -> None:
        # orjson gives bytes; the protocol is text frames, so send it as str
        await self.websocket.send(jsoncodec.dumps(frame).decode())

    async def receive(self) -> Frame:
        """The next frame, decoded; raises ``websockets.ConnectionClosed`` at the end."""
        raw = await self.websocket.recv()
        frame = decode(raw)
        if self.tap is not None:
            self.tap(raw, frame)
        return frame

    async def close(self) -> None:
        await self.websocket.close()

    def abort(self) -> None:
        """Drop the connection at once, without a closing handshake (as a network would)."""
        self.websocket.transport.abort()
