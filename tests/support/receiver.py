"""A real webhook receiver: an HTTP server on 127.0.0.1 (uvicorn, in the test's loop)
that records every request and answers as the test says: 2xx, an error, or never."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from standardwebhooks.webhooks import Webhook as Verifier

from tests.support.server import free_port

Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.body)
        return parsed

    def verified(self, secret: str) -> dict[str, Any]:
        """The event, once its Standard Webhooks signature checks out with ``secret``."""
        parsed: dict[str, Any] = Verifier(secret).verify(self.body, self.headers)
        return parsed


class Receiver:
    """``answer``: "ok" (204), "fail" (500) or "hang" (never answers until released)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.answer = "ok"
        self.requests: list[Request] = []  # every request, whatever it was answered
        self.accepted: list[Request] = []  # those answered 2xx
        self.hanging = 0  # requests held open right now
        self._changed = asyncio.Condition()
        self._release = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> None:
        config = uvicorn.Config(
            self._app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:  # uvicorn has no event for it
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Down: its port refuses connections until ``start`` again."""
        self._release.set()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = None
        self._release = asyncio.Event()

    def release(self) -> None:
        """Let hanging requests finish (answered 503)."""
        self._release.set()

    async def wait_for(self, ready: Callable[[Receiver], bool], timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: ready(self))

    def accepted_events(self) -> list[dict[str, Any]]:
        return [r.event for r in self.accepted]

    async def _app(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        request = Request(scope["path"], headers, body)
        answer = self.answer
        async with self._changed:
            self.requests.append(request)
            if answer == "ok":
                self.accepted.append(request)
            if answer == "hang":
                self.hanging += 1
            self._changed.notify_all()
        status = {"ok": 204, "fail": 500}.get(answer, 503)
        if answer == "hang":
            with contextlib.suppress(asyncio.CancelledError):
                await self._release.wait()
            async with self._changed:
                self.hanging -= 1
                self._changed.notify_all()
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def receiving(port: int | None = None) -> AsyncIterator[Receiver]:
    receiver = Receiver(port)
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()
