"""A TCP proxy between a client and a server, for tests that need the network to fail
on cue: refuse connections for a while, drop them just before a chosen reply, or
partition the two sides (nothing gets through, nothing is refused)."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.engine import make_url


class Proxy:
    """Forwards 127.0.0.1:``port`` to ``target_host``:``target_port``, byte for byte.

    - ``accepting = False``: new connections are accepted and dropped at once, as if the
      server were unreachable (existing ones go on).
    - ``cut()``: every connection open now is dropped (a reset, no closing handshake).
    - ``cut_before(pattern)``: the next chunk from the server that holds ``pattern`` is
      not forwarded; its connection is dropped instead, and ``cut_done`` is set.
    - ``partition()``: a blackhole, as a network partition looks from either side: new
      connections are accepted and get no answer, open ones carry nothing either way;
      no connection is refused or reset. ``heal()`` ends it: what waited goes through,
      in order, as after a partition TCP outlived.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target_port = target_port
        self.target_host = target_host
        self.accepting = True
        self.cut_done = asyncio.Event()
        self.connections = 0  # accepted and forwarded, over the proxy's life
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pattern: bytes | None = None
        self._flowing = asyncio.Event()  # cleared while partitioned
        self._flowing.set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @classmethod
    def before(cls, database_url: str) -> Proxy:
        """A proxy (not started) in front of the database server a SQLAlchemy URL names."""
        url = make_url(database_url)
        return cls(url.port or 5432, url.host or "127.0.0.1")

    def database_url(self, database_url: str) -> str:
        """The same database, reached through this proxy."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    async def start(self) -> Proxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def aclose(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def cut(self) -> None:
        for link in list(self._links):
            self._drop(link)

    def cut_before(self, pattern: bytes) -> None:
        self.cut_done.clear()
        self._pattern = pattern

    def partition(self) -> None:
        self._flowing.clear()

    def heal(self) -> None:
        self._flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.accepting:
            writer.transport.abort()
            return
        if not self._flowing.is_set():  # partitioned: the client's connect is never answered
            waiting = asyncio.current_task()
            assert waiting is not None
            self._tasks.add(waiting)  # aclose() ends the wait
            try:
                await self._flowing.wait()
            except asyncio.CancelledError:
                writer.transport.abort()
                raise
            finally:
                self._tasks.discard(waiting)
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        link = (writer, up_writer)
        self._links.add(link)
        for task in (
            asyncio.create_task(self._pump(reader, up_writer, link, watch=False)),
            asyncio.create_task(self._pump(up_reader, writer, link, watch=True)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        link: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
        watch: bool,
    ) -> None:
        tail = b""  # so that a pattern split across two reads is still seen
        try:
            while chunk := await source.read(65536):
                if watch and self._pattern is not None and self._pattern in tail + chunk:
                    self._pattern = None
                    self._drop(link)
                    self.cut_done.set()
                    return
                tail = chunk[-256:]
                await self._flowing.wait()  # partitioned: held, not lost
                sink.write(chunk)
                await sink.drain()
            sink.close()  # the other side closed: close this one too, after what is written
        except (ConnectionError, OSError):
            self._drop(link)

    def _drop(self, link: tuple[asyncio.StreamWriter, asyncio.StreamWriter]) -> None:
        for side in link:
            side.transport.abort()
        self._links.discard(link)
